"""The results store: checksummed append-only records and atomic writes."""

from __future__ import annotations

import json
import os

import pytest

from fastgd.study import records
from fastgd.study.records import (
    RECORDS_FILE,
    CorruptRecordError,
    PartialRecordWarning,
    append_record,
    atomic_write_bytes,
    atomic_write_text,
    finished_case_ids,
    load_records,
    record_sha256,
)


def _record(case_id: str, value: float = 1.0) -> dict:
    return {"case_id": case_id, "case": {"loss": "l2"}, "timing": [{"epoch_time_s": value}], "diverged": False}


def test_roundtrip_keeps_every_value_and_adds_checksum(tmp_path):
    written = [append_record(tmp_path, _record(f"c{i}", 0.1 * i)) for i in range(3)]
    loaded = load_records(tmp_path)
    assert loaded == written
    assert [r["timing"][0]["epoch_time_s"] for r in loaded] == [0.0, 0.1, 0.2]
    assert all(r["schema"] == 1 and r["sha256"] == record_sha256(r) for r in loaded)
    assert finished_case_ids(tmp_path) == {"c0", "c1", "c2"}


def test_non_finite_values_survive(tmp_path):
    append_record(tmp_path, {"case_id": "x", "loss": [float("inf"), float("nan")]})
    loss = load_records(tmp_path)[0]["loss"]
    assert loss[0] == float("inf") and loss[1] != loss[1]


def test_missing_directory_has_no_records(tmp_path):
    assert load_records(tmp_path / "nowhere") == []
    assert finished_case_ids(tmp_path / "nowhere") == set()


def test_latest_record_of_a_case_wins(tmp_path):
    append_record(tmp_path, _record("a", 1.0))
    append_record(tmp_path, _record("b", 2.0))
    append_record(tmp_path, _record("a", 3.0))
    latest = load_records(tmp_path)
    assert [(r["case_id"], r["timing"][0]["epoch_time_s"]) for r in latest] == [("b", 2.0), ("a", 3.0)]
    assert len(load_records(tmp_path, latest_only=False)) == 3


def test_edited_value_fails_checksum_with_line_number(tmp_path):
    for i in range(3):
        append_record(tmp_path, _record(f"c{i}"))
    path = tmp_path / RECORDS_FILE
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"epoch_time_s":1.0', '"epoch_time_s":0.5')
    path.write_text("".join(lines))
    with pytest.raises(CorruptRecordError, match=r"line 2: .*sha256") as info:
        load_records(tmp_path)
    assert info.value.line_number == 2 and info.value.path == path


def test_invalid_json_in_the_middle_is_corrupt(tmp_path):
    append_record(tmp_path, _record("a"))
    with open(tmp_path / RECORDS_FILE, "a") as handle:
        handle.write('{"case_id": "b", broken\n')
    append_record(tmp_path, _record("c"))
    with pytest.raises(CorruptRecordError, match=r"line 2: .*not valid JSON"):
        load_records(tmp_path)


def test_record_without_checksum_is_corrupt(tmp_path):
    (tmp_path / RECORDS_FILE).write_text(json.dumps({"schema": 1, "case_id": "a"}) + "\n")
    with pytest.raises(CorruptRecordError, match="line 1: .*no sha256"):
        load_records(tmp_path)


def test_truncated_last_line_is_ignored_with_warning_and_reruns(tmp_path):
    append_record(tmp_path, _record("a"))
    append_record(tmp_path, _record("b"))
    path = tmp_path / RECORDS_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # cut inside the last record
    with pytest.warns(PartialRecordWarning, match="line 2"):
        assert [r["case_id"] for r in load_records(tmp_path)] == ["a"]
    # The next append cuts the partial line first, so the file is clean again.
    append_record(tmp_path, _record("b"))
    with_warning_free = load_records(tmp_path)
    assert [r["case_id"] for r in with_warning_free] == ["a", "b"]
    assert path.read_bytes().count(b"\n") == 2


def test_append_requires_case_id(tmp_path):
    with pytest.raises(ValueError, match="case_id"):
        append_record(tmp_path, {"case": {}})


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    atomic_write_text(target, "a,b\n1,2\n")
    atomic_write_text(target, "a,b\n3,4\n")
    assert target.read_text() == "a,b\n3,4\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_atomic_write_failure_keeps_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    atomic_write_bytes(target, b"old complete content")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(records.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new content that never lands")
    assert target.read_bytes() == b"old complete content"
    assert os.listdir(tmp_path) == ["report.md"]


def test_atomic_write_interrupted_mid_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "fresh.csv"
    real_fdopen = os.fdopen

    class Exploding:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()
            return False

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(records.os, "fdopen", lambda fd, mode: Exploding(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"x" * 1000)
    assert os.listdir(tmp_path) == []


def test_atomic_writes_get_the_usual_file_mode(tmp_path):
    """Not mkstemp's private 0600: readers of a report expect the umask's mode."""
    import os
    import stat

    from fastgd.study.records import atomic_write_text

    path = atomic_write_text(tmp_path / "REPORT.md", "# hi\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
