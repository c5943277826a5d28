"""The ``fastgd`` command: ``fastgd bench`` runs the study, ``fastgd report`` re-draws it.

Exit status: 0 on success, 1 when results are corrupt or a step fails, 2 for
a bad option or study file (one line on stderr, no traceback), 130 when
interrupted (finished cases are kept; rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shlex
import sys
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .study.config import EXAMPLE_STUDY_TOML

__all__ = ["build_parser", "main"]

_PROG = "fastgd"
_DESCRIPTION = """\
fastgd: fast, exact gradient descent for regression.

The benchmark study compares batch, SGD, mini-batch and Adam, and fastgd
against NumPy, scikit-learn and PyTorch, on synthetic regression data, and
writes a report: tidy CSV tables, PNG plots and REPORT.md."""
_EPILOG = """examples:
  fastgd bench                       quick study (about 3 minutes), report in reports/
  fastgd bench --preset full --out big-reports
  fastgd bench --config study.toml --threads 1 2
  fastgd report --results reports/results --out reports
  fastgd report --benchmark-json .benchmarks/run.json --out bench-report

exit status: 0 success, 1 corrupt results or failure, 2 bad option or study file, 130 interrupted."""


_BENCH_DESCRIPTION = """\
Run a benchmark study, then write its report (tables, plots, REPORT.md) to OUT.

Each finished case is saved at once in RESULTS/records.jsonl: rerunning the
same command skips finished cases (so Ctrl-C or a crash loses nothing) and
--force redoes them.  JIT compilation happens before timing and is reported
separately; peers that are not installed are skipped with a note."""

_BENCH_EPILOG = "study file (TOML; every key but datasets is optional):\n" + textwrap.indent(EXAMPLE_STUDY_TOML, "  ")


@contextlib.contextmanager
def thread_limits(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` Numba, PyTorch and BLAS threads; restore them after.

    The study runs each case at its thread count through this.  Only the
    harness sets thread counts: library code reads ``numba.get_num_threads()``.
    """
    import numba
    from threadpoolctl import threadpool_limits

    previous_numba = numba.get_num_threads()
    torch = sys.modules.get("torch")
    previous_torch = torch.get_num_threads() if torch is not None else None
    numba.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        numba.set_num_threads(previous_numba)
        if torch is not None and previous_torch is not None:
            torch.set_num_threads(previous_torch)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fastgd`` command and its subcommands."""
    from . import __version__

    parser = _Parser(
        prog=_PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    bench = commands.add_parser(
        "bench",
        help="run the benchmark study, then write the report",
        description=_BENCH_DESCRIPTION,
        epilog=_BENCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = bench.add_mutually_exclusive_group()
    source.add_argument(
        "--preset",
        choices=("tiny", "quick", "full"),
        default="quick",
        help="built-in study: tiny (seconds, for tests), quick (default, about 3 minutes on 2 cores), "
        "full (up to 1,000,000 x 100 plus a scaling sweep; tens of minutes)",
    )
    source.add_argument("--config", metavar="FILE", type=Path, help="study TOML file (see fastgd.study.config)")
    bench.add_argument(
        "--out", metavar="DIR", type=Path, default=Path("reports"), help="report directory (default: reports)"
    )
    bench.add_argument("--results", metavar="DIR", type=Path, help="results directory (default: OUT/results)")
    bench.add_argument("--force", action="store_true", help="redo cases that already have results")
    bench.add_argument("--quiet", action="store_true", help="plain log lines instead of a progress bar")
    bench.add_argument(
        "--threads", metavar="N", type=_positive_int, nargs="+", help="thread counts to run (overrides the study's)"
    )
    bench.set_defaults(handler=_bench)

    report = commands.add_parser(
        "report",
        help="re-draw tables and plots from saved results (runs nothing)",
        description=(
            "Re-draw every table, plot and REPORT.md from saved results without running anything; "
            "or turn a pytest-benchmark JSON file into the same timing table and plots."
        ),
    )
    report.add_argument("--results", metavar="DIR", type=Path, help="results directory (default: OUT/results)")
    report.add_argument(
        "--out", metavar="DIR", type=Path, default=Path("reports"), help="report directory (default: reports)"
    )
    report.add_argument(
        "--benchmark-json",
        metavar="FILE",
        type=Path,
        help="pytest-benchmark JSON (pytest --benchmark-json=FILE) to report on",
    )
    report.set_defaults(handler=_report)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fail(command: str, message: str, status: int) -> int:
    print(f"{_PROG} {command}: error: {message}", file=sys.stderr)
    return status


def _bench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .study.config import StudyConfigError, load_study, preset
    from .study.records import CorruptRecordError
    from .study.runner import run_study

    try:
        study = load_study(args.config) if args.config is not None else preset(args.preset)
    except StudyConfigError as error:
        return _fail("bench", str(error), 2)
    if args.threads:
        study = dataclasses.replace(study, threads=tuple(dict.fromkeys(args.threads)))
    results_dir = args.results if args.results is not None else args.out / "results"
    command = shlex.join([_PROG, *argv])
    try:
        outcome = run_study(study, results_dir, force=args.force, quiet=args.quiet, command=command)
    except CorruptRecordError as error:
        return _fail("bench", f"{error}; fix or remove the file (or use another --results directory)", 1)
    except StudyConfigError as error:
        return _fail("bench", str(error), 2)
    except KeyboardInterrupt:
        print(
            f"\n{_PROG} bench: interrupted; finished cases are saved in {results_dir}. "
            "Run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    status, where = _write_report("bench", results_dir, args.out)
    minutes, seconds = divmod(round(outcome.elapsed_s), 60)
    summary = (
        f"{_PROG} bench: {outcome.n_cases} cases ({outcome.n_run} run, {outcome.n_skipped} already done) "
        f"in {minutes}m{seconds:02d}s; results in {results_dir}"
    )
    print(summary + (f"; report: {where}" if where else ""))
    return status


def _write_report(
    command: str, results_dir: Path, out_dir: Path, benchmark_json: Path | None = None
) -> tuple[int, Path | None]:
    """Call the report package; return (exit status, path of REPORT.md or the output directory)."""
    try:
        from .report import ReportError, write_report, write_report_from_benchmark_json
    except ImportError as error:
        return _fail(command, f"the report package is not available ({error})", 1), None
    from .study.records import CorruptRecordError

    try:
        if benchmark_json is not None:
            paths = write_report_from_benchmark_json(benchmark_json, out_dir)
        else:
            paths = write_report(results_dir, out_dir)
    except (CorruptRecordError, ReportError) as error:
        return _fail(command, str(error), 1), None
    except (OSError, ValueError) as error:
        return _fail(command, f"could not write the report: {error}", 1), None
    markdown = [Path(path) for path in paths if Path(path).name == "REPORT.md"]
    return 0, markdown[0] if markdown else out_dir


def _report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    results_dir = args.results if args.results is not None else args.out / "results"
    if args.benchmark_json is not None:
        if not args.benchmark_json.is_file():
            return _fail("report", f"{args.benchmark_json}: no such file", 2)
    elif not (results_dir / "records.jsonl").is_file():
        return _fail("report", f"{results_dir}: no results here (run 'fastgd bench' first, or pass --results DIR)", 2)
    status, where = _write_report("report", results_dir, args.out, args.benchmark_json)
    if status == 0:
        print(f"{_PROG} report: report written to {where}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastgd`` console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else 2
    with warnings.catch_warnings():  # restores the filters and showwarning afterwards
        warnings.showwarning = _show_warning_in_one_line
        return int(args.handler(args, arguments))


def _show_warning_in_one_line(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Warnings on the command line: one line on stderr, no source excerpt."""
    print(f"{_PROG}: warning: {message}", file=sys.stderr)
