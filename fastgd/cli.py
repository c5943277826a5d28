"""The ``fastgd`` command: ``fastgd bench`` runs the study, ``fastgd report`` re-draws it.

Exit status: 0 on success, 1 when a step fails, 2 for a bad option, study
file or results directory (one line on stderr, no traceback), 130 when
interrupted by Ctrl-C or SIGTERM (finished cases are kept; rerun the same
command to resume).  Thread counts are set only by the study runner, per case
(:func:`fastgd.study.machine.thread_limits`); ``--threads`` chooses them.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["build_parser", "main"]

_PROG = "fastgd"
_DESCRIPTION = """\
fastgd: fast, exact gradient descent for regression.

The benchmark study compares batch, SGD, mini-batch and Adam, and fastgd
against NumPy, scikit-learn and PyTorch, on synthetic regression data, and
writes a report: tidy CSV tables, PNG plots and REPORT.md."""
_EPILOG = """examples:
  fastgd bench                       quick study (about 4 minutes), report in reports/
  fastgd bench --preset full --out big-reports
  fastgd bench --config study.toml --threads 1 2
  fastgd report --results reports/results --out reports
  fastgd report --benchmark-json .benchmarks/run.json --out bench-report

exit status: 0 success, 1 failure, 2 bad option, study file or results directory, 130 interrupted."""


_BENCH_DESCRIPTION = """\
Run a benchmark study, then write its report (tables, plots, REPORT.md) to OUT.

Tune phase: every method and backend runs over a learning-rate grid on the
study's datasets, and the fastest to the target accuracy wins.  Timing
phase: the winners' epoch times on a dataset larger than the cache.  Each
finished case is saved at once in RESULTS/cases/ (one Parquet file each):
rerunning the same command skips finished cases (so Ctrl-C or a crash loses
nothing); --force discards them and measures everything again.  JIT
compilation happens before timing and is reported separately; peers that are
not installed are skipped with a note."""


def _bench_epilog() -> str:
    from .study.config import PRESETS

    example = PRESETS["quick"].to_toml()
    return "study file (TOML; every key but datasets is optional), the quick preset:\n" + textwrap.indent(example, "  ")


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
        epilog=_bench_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = bench.add_mutually_exclusive_group()
    source.add_argument(
        "--preset",
        choices=("tiny", "quick", "full"),
        default="quick",
        help="built-in study: tiny (seconds, for tests), quick (default, about 4 minutes on 2 cores), "
        "full (more datasets, losses and schedules, 2,000,000 x 100 timing; tens of minutes)",
    )
    source.add_argument("--config", metavar="FILE", type=Path, help="study TOML file (see fastgd.study.config)")
    bench.add_argument(
        "--out", metavar="DIR", type=Path, default=Path("reports"), help="report directory (default: reports)"
    )
    bench.add_argument("--results", metavar="DIR", type=Path, help="results directory (default: OUT/results)")
    bench.add_argument("--force", action="store_true", help="discard the results already there and re-measure")
    bench.add_argument("--quiet", action="store_true", help="no per-case progress lines")
    bench.add_argument(
        "--threads", metavar="N", type=_positive_int, nargs="+",
        help="thread counts of the timing phase; the largest also runs the tune phase (overrides the study's)",
    )  # fmt: skip
    bench.set_defaults(handler=_bench)

    report = commands.add_parser(
        "report",
        help="re-draw tables and plots from saved results (runs nothing)",
        description=(
            "Re-draw every table, plot and REPORT.md from saved results without running anything; "
            "or turn a pytest-benchmark JSON file into the same timing table and plots."
        ),
    )
    report.add_argument(
        "--results", metavar="DIR", type=Path, help="results directory, or a study's OUT (default: OUT/results)"
    )
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


def _output_dir_error(path: Path, option: str) -> str | None:
    """Why ``path`` cannot be a directory to write into, or ``None``."""
    if path.exists() and not path.is_dir():
        return f"{option} {path}: is a file, not a directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".fastgd-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return f"{option} {path}: cannot write there ({error.strerror or error})"
    return None


def _bench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import msgspec

    from .study.config import StudyConfigError, TimingSpec, load_study, preset
    from .study.runner import run_study
    from .study.store import StoreError

    try:
        study = load_study(args.config) if args.config is not None else preset(args.preset)
    except StudyConfigError as error:
        return _fail("bench", str(error), 2)
    if args.threads:
        threads = tuple(dict.fromkeys(args.threads))
        timing: TimingSpec | None = study.timing
        if timing is not None:
            timing = msgspec.structs.replace(timing, threads=threads)
        study = msgspec.structs.replace(study, threads=max(threads), timing=timing)
    results_dir = args.results if args.results is not None else args.out / "results"
    for path, option in ((args.out, "--out"), (results_dir, "--results")):
        if (problem := _output_dir_error(path, option)) is not None:
            return _fail("bench", problem, 2)
    command = shlex.join([_PROG, *argv])
    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        outcome = run_study(study, results_dir, force=args.force, quiet=args.quiet, command=command, log=say)
    except (StudyConfigError, StoreError) as error:
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
        f"{_PROG} bench: {outcome.n_run} cases run, {outcome.n_skipped} already done, "
        f"in {minutes}m{seconds:02d}s; results in {results_dir}"
    )
    print(summary + (f"; report: {where}" if where else ""))
    return status


def _write_report(
    command: str, results_dir: Path, out_dir: Path, benchmark_json: Path | None = None
) -> tuple[int, Path | None]:
    """Call the report package; return (exit status, path of REPORT.md or the output directory)."""
    from .report import ReportError, write_report, write_report_from_benchmark_json
    from .study.store import StoreError

    try:
        if benchmark_json is not None:
            paths = write_report_from_benchmark_json(benchmark_json, out_dir)
        else:
            paths = write_report(results_dir, out_dir)
    except KeyboardInterrupt:
        print(f"\n{_PROG} {command}: interrupted while writing the report; rerun 'fastgd report'", file=sys.stderr)
        return 130, None
    except (StoreError, ReportError) as error:
        return _fail(command, str(error), 1), None
    except (OSError, ValueError) as error:
        return _fail(command, f"could not write the report: {error}", 1), None
    markdown = [Path(path) for path in paths if Path(path).name == "REPORT.md"]
    return 0, markdown[0] if markdown else out_dir


def _report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .study.store import STUDY_FILE

    results_dir = args.results if args.results is not None else args.out / "results"
    if args.out.exists() and not args.out.is_dir():
        return _fail("report", f"--out {args.out}: is a file, not a directory", 2)
    if args.benchmark_json is not None:
        if not args.benchmark_json.is_file():
            return _fail("report", f"--benchmark-json {args.benchmark_json}: no such file", 2)
    elif results_dir.exists() and not results_dir.is_dir():
        return _fail("report", f"--results {results_dir}: is a file, not a directory", 2)
    elif not any((results_dir / sub / STUDY_FILE).is_file() for sub in (".", "results")):
        return _fail("report", f"{results_dir}: no results here (run 'fastgd bench' first, or pass --results DIR)", 2)
    if (problem := _output_dir_error(args.out, "--out")) is not None:
        return _fail("report", problem, 2)
    status, where = _write_report("report", results_dir, args.out, args.benchmark_json)
    if status == 0:
        print(f"{_PROG} report: report written to {where}")
    return status


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops a run the way Ctrl-C does (finished cases are kept)."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastgd`` console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else 2
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        with warnings.catch_warnings():  # restores the filters and showwarning afterwards
            warnings.showwarning = _show_warning_in_one_line
            return int(args.handler(args, arguments))
    except KeyboardInterrupt:  # outside the handlers' own interrupt handling (e.g. while importing)
        print(f"\n{_PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show_warning_in_one_line(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Warnings on the command line: one line on stderr, no source excerpt."""
    print(f"{_PROG}: warning: {message}", file=sys.stderr)
