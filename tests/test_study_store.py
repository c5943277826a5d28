"""The results store: one atomic file per case, a lock against a second run, no silent mixing of studies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from fastgd.study.store import CASES_DIR, ResultsStore, StoreError, load_points, read_study_info

_STUDY = {"name": "a", "datasets": [{"n_samples": 10, "n_features": 2}]}


def _rows(value=1.0):
    return pd.DataFrame({"case_id": ["x", "x"], "objective": [value, value / 2]})


def test_cases_are_files_and_load_back_in_order(tmp_path):
    with ResultsStore(tmp_path, _STUDY) as store:
        store.write_case("b", _rows(2.0))
        store.write_case("a", _rows(1.0))
        store.write_study_info({"study": _STUDY})
        assert store.finished_ids() == {"a", "b"}
    assert sorted(p.name for p in (tmp_path / CASES_DIR).iterdir()) == ["a.parquet", "b.parquet"]
    assert load_points(tmp_path)["objective"].tolist() == [1.0, 0.5, 2.0, 1.0]
    assert read_study_info(tmp_path) == {"study": _STUDY}
    assert len(load_points(tmp_path.parent / "nothing-here")) == 0


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def explode(self, path, **kwargs):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    with ResultsStore(tmp_path, _STUDY) as store:
        monkeypatch.setattr(pd.DataFrame, "to_parquet", explode)
        with pytest.raises(KeyboardInterrupt):
            store.write_case("a", _rows())
    assert list((tmp_path / CASES_DIR).iterdir()) == []


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from fastgd.study.store import ResultsStore
            with ResultsStore({str(tmp_path)!r}, {_STUDY!r}):
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match=rf"in use by pid {holder.pid}"):
            ResultsStore(tmp_path, _STUDY).__enter__()
    finally:
        holder.communicate("\n", timeout=60)
    with ResultsStore(tmp_path, _STUDY):  # released when the holder exits
        pass


def test_another_study_is_refused_unless_discarded(tmp_path):
    with ResultsStore(tmp_path, _STUDY) as store:
        store.write_case("a", _rows())
        store.write_study_info({"study": _STUDY})
    other = _STUDY | {"name": "b"}
    with pytest.raises(StoreError, match="holds results of a different study"):
        ResultsStore(tmp_path, other).__enter__()
    with ResultsStore(tmp_path, other, discard=True) as store:
        assert store.finished_ids() == set()


def test_unusable_directories_are_refused(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(StoreError, match="is a file"):
        ResultsStore(a_file, _STUDY).__enter__()
    with pytest.raises(
        StoreError, match="cannot write to"
    ):  # (root writes anywhere; a path under a file fails for all)
        ResultsStore(a_file / "results", _STUDY).__enter__()


def test_a_damaged_case_file_is_named(tmp_path):
    (tmp_path / CASES_DIR).mkdir()
    (tmp_path / CASES_DIR / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(StoreError, match="bad.parquet: damaged case file"):
        load_points(tmp_path)
