"""Time to target, the learning-rate selection rule, grid edges and performance profiles.

Pure pandas functions on the study's **points table** (one row per case, repetition and recorded
point; see :func:`fastgd.study.store.load_points`).  The runner uses them to pick the learning rate
of the timing phase, the report to build its tables; both therefore apply the same rule, stated once
in :data:`CRITERION`.

Keys: :data:`DATASET_KEYS` identify a dataset, :data:`PROBLEM_KEYS` a dataset and a loss (a
*problem* of the performance profiles), :data:`CONFIG_KEYS` a run (repetitions aside) and
:data:`GROUP_KEYS` (:data:`CONFIG_KEYS` without ``lr`` and ``schedule``) a tuning group, inside
which one configuration wins.  Missing keys (``batch_size`` is ``<NA>`` for full batch) group together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CONFIG_KEYS",
    "CRITERION",
    "DATASET_KEYS",
    "GROUP_KEYS",
    "PROBLEM_KEYS",
    "config_summary",
    "performance_profile",
    "present",
    "run_summary",
    "select_winners",
    "time_column",
]

DATASET_KEYS: tuple[str, ...] = ("n_samples", "n_features", "dtype", "noise", "outliers", "correlation", "data_seed")
PROBLEM_KEYS: tuple[str, ...] = DATASET_KEYS + ("loss", "delta")
CONFIG_KEYS: tuple[str, ...] = (
    ("phase",) + PROBLEM_KEYS + ("method", "optimizer", "batch_size", "backend", "threads", "lr", "schedule")
)
GROUP_KEYS: tuple[str, ...] = tuple(key for key in CONFIG_KEYS if key not in ("lr", "schedule"))

CRITERION = (
    "For each dataset, loss, method, optimizer, batch size, backend and thread count, every learning rate "
    "and schedule of the grid is run once; the winner is the configuration whose run reaches the target "
    "relative suboptimality in the shortest time.  Configurations that do not reach the target, and ties, "
    "are ranked by the lowest final suboptimality.  A diverged run never wins; a group whose every "
    "configuration diverged has no winner.  The winner alone is then repeated, and the times reported for "
    "it are medians over all its repetitions (the repetitions measure its spread; they do not re-decide "
    "the choice).  The same grid and rule apply to every backend."
)


def time_column(target: float) -> str:
    """Column of :func:`run_summary` holding the time to ``target``: ``time_to_1e-02``."""
    return f"time_to_{target:.0e}"


def present(frame: pd.DataFrame, keys: Iterable[str]) -> list[str]:
    """The ``keys`` that are columns of ``frame``, in order."""
    return [key for key in keys if key in frame.columns]


def _spread(values: pd.Series) -> float:
    """``(max - min) / median`` of the finite values; NaN with fewer than two or a zero median."""
    finite = values[np.isfinite(values.astype("float64"))].astype("float64")
    if len(finite) < 2 or finite.median() == 0:
        return float("nan")
    return float((finite.max() - finite.min()) / finite.median())


def run_summary(points: pd.DataFrame, targets: Sequence[float] = ()) -> pd.DataFrame:
    """One row per run (configuration and repetition) of the points table.

    Parameters
    ----------
    points : pandas.DataFrame
        The points table.
    targets : sequence of float
        Relative suboptimalities for the ``time_to_<target>`` columns.

    Returns
    -------
    pandas.DataFrame
        The run's keys, ``time_to_<target>`` (first recorded ``time_s`` with ``suboptimality <=
        target``, NaN if never), ``final_suboptimality`` and ``final_objective`` (the last finite
        values), ``best_suboptimality``, ``diverged``, ``epoch_time_s`` (median time between
        consecutive whole epochs) and ``compile_s``.
    """
    keys = present(points, CONFIG_KEYS + ("repetition",))
    frame = points.sort_values("step", kind="stable").reset_index(drop=True)
    work = frame[keys].copy()
    time_s, suboptimality = frame["time_s"].astype("float64"), frame["suboptimality"].astype("float64")
    objective, epoch = frame["objective"].astype("float64"), frame["epoch"].astype("float64")
    work["time_s"] = time_s
    work["final_suboptimality"] = suboptimality.where(np.isfinite(suboptimality))
    work["final_objective"] = objective.where(np.isfinite(objective))
    work["diverged"] = frame["diverged"].astype(bool)
    work["compile_s"] = frame["compile_s"]
    for target in targets:
        work[time_column(target)] = time_s.where(suboptimality <= target)
    whole = epoch == np.round(epoch)
    whole_epochs = work.loc[whole, keys].assign(time_s=time_s[whole], epoch=epoch[whole]).sort_values("epoch")
    work["epoch_dt"] = whole_epochs.groupby(keys, dropna=False, sort=False)["time_s"].diff()
    summary = work.groupby(keys, dropna=False, sort=False).agg(
        **{time_column(target): (time_column(target), "min") for target in targets},
        final_suboptimality=("final_suboptimality", "last"),
        final_objective=("final_objective", "last"),
        best_suboptimality=("final_suboptimality", "min"),
        diverged=("diverged", "any"),
        epoch_time_s=("epoch_dt", "median"),
        compile_s=("compile_s", "first"),
    )
    return summary.reset_index()


def config_summary(runs: pd.DataFrame, target: float) -> pd.DataFrame:
    """One row per configuration: its repetitions summarised by their medians, and its grid position.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`run_summary` of the points (any phase) at ``target``.
    target : float
        The relative suboptimality whose time is compared.

    Returns
    -------
    pandas.DataFrame
        :data:`CONFIG_KEYS`, ``time_to_target_s`` (median over repetitions, a repetition not
        reaching it counted as infinite; NaN if that median is infinite), ``reached``,
        ``final_suboptimality``, ``best_suboptimality``, ``final_objective`` (medians), ``diverged``
        (any repetition), ``n_repetitions``, ``spread`` and ``spread_of`` (``(max - min) / median``
        across repetitions of the time to target when every repetition reached it, else of the final
        suboptimality), ``n_lrs`` (rates run in the group with this schedule) and ``grid_edge``
        (``"low"``/``"high"`` when ``lr`` is the smallest/largest of those, else ``""``).
    """
    runs = runs.copy()
    keys = present(runs, CONFIG_KEYS)
    runs["time"] = runs[time_column(target)].fillna(np.inf)
    runs["all_reached"] = runs[time_column(target)].notna()
    grouped = runs.groupby(keys, dropna=False, sort=False)
    configs = grouped.agg(
        time_to_target_s=("time", "median"),
        final_suboptimality=("final_suboptimality", "median"),
        best_suboptimality=("best_suboptimality", "median"),
        final_objective=("final_objective", "median"),
        diverged=("diverged", "any"),
        n_repetitions=("time", "size"),
        all_reached=("all_reached", "all"),
    ).reset_index()
    time_spread = grouped["time"].agg(_spread).to_numpy()
    final_spread = grouped["final_suboptimality"].agg(_spread).to_numpy()
    configs["spread"] = np.where(configs["all_reached"], time_spread, final_spread)
    configs["spread_of"] = np.where(configs["all_reached"], "time_to_target", "final_suboptimality")
    configs["reached"] = np.isfinite(configs["time_to_target_s"]) & ~configs["diverged"]
    configs["time_to_target_s"] = configs["time_to_target_s"].where(configs["reached"])
    grid = configs.groupby(present(configs, GROUP_KEYS) + ["schedule"], dropna=False, sort=False)["lr"]
    low, high, n_lrs = grid.transform("min"), grid.transform("max"), grid.transform("nunique")
    configs["n_lrs"] = n_lrs
    configs["grid_edge"] = np.select(
        [(n_lrs > 1) & (configs["lr"] == low), (n_lrs > 1) & (configs["lr"] == high)], ["low", "high"], ""
    )
    return configs.drop(columns="all_reached")


def select_winners(points: pd.DataFrame, target: float) -> pd.DataFrame:
    """The winning learning rate and schedule of every tuning group (rule: :data:`CRITERION`).

    Parameters
    ----------
    points : pandas.DataFrame
        The points table; only rows of phase ``"tune"`` are used.
    target : float
        Relative suboptimality to reach (for instance ``1e-2``).

    Returns
    -------
    pandas.DataFrame
        One row per :data:`GROUP_KEYS` group: :func:`config_summary`'s columns for the winner and
        ``target``.  A group whose every configuration diverged keeps one row with ``lr`` NaN,
        ``schedule`` ``<NA>``, ``reached`` False, ``diverged`` True and ``grid_edge`` ``""``.
    """
    runs = run_summary(points[points["phase"] == "tune"], [target])
    configs = config_summary(runs, target)
    ranking = config_summary(runs[runs["repetition"] == 0], target)  # the grid pass decides; repetitions only measure
    group_keys = present(configs, GROUP_KEYS)
    config_keys = present(configs, CONFIG_KEYS)
    configs["group"] = configs.groupby(group_keys, dropna=False, sort=False).ngroup()
    ranking["rank_time"] = ranking["time_to_target_s"].fillna(np.inf)
    ranking["rank_final"] = ranking["final_objective"].fillna(np.inf)
    ranked = ranking[~ranking["diverged"]].sort_values(["rank_time", "rank_final", "lr"], kind="stable")
    order = ranked[config_keys].merge(configs.reset_index(), on=config_keys, how="left")["index"]
    winners = configs.loc[order.to_numpy()].drop_duplicates("group")
    failed = configs[~configs["group"].isin(winners["group"])].drop_duplicates("group").copy()
    failed[["lr", "time_to_target_s", "final_suboptimality", "best_suboptimality", "spread"]] = np.nan
    failed["schedule"], failed["grid_edge"] = pd.NA, ""
    table = pd.concat([winners, failed]) if len(failed) else winners
    table = table.sort_values("group").drop(columns=["group", "final_objective"])
    return table.assign(target=float(target)).reset_index(drop=True)


def performance_profile(
    table: pd.DataFrame,
    solver: str,
    problem: str | Sequence[str],
    value: str,
    taus: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Dolan–Moré performance profile: the share of problems each solver solves within ``tau`` × the best.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (``solver``, ``problem``) with a cost in column ``value`` (lower is better, e.g.
        time to target); NaN or inf means not solved, duplicates keep their lowest cost, a solver
        missing for a problem has not solved it.
    solver, problem, value : str (``problem`` may be a sequence of columns)
    taus : sequence of float, optional
        Ratios at which to evaluate the profile (default: 1 and every finite ratio that occurs).

    Returns
    -------
    pandas.DataFrame
        ``solver``, ``tau``, ``fraction`` (in [0, 1], non-decreasing in ``tau``), ``n_problems``.
        A solver's ratio on a problem is its cost over the lowest cost there (1 for a cost of 0 when
        the lowest is 0), infinite when not solved.
    """
    problem_keys = [problem] if isinstance(problem, str) else list(problem)
    frame = table[[solver] + problem_keys].copy()
    frame["problem_id"] = table.groupby(problem_keys, dropna=False, sort=False).ngroup()
    frame["cost"] = pd.to_numeric(table[value], errors="coerce").astype("float64").fillna(np.inf)
    wide = frame.pivot_table(index="problem_id", columns=solver, values="cost", aggfunc="min").fillna(np.inf)
    costs = wide.to_numpy(dtype="float64")
    best = costs.min(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(np.isfinite(costs) & (costs == best), 1.0, costs / best)
    ratios = np.where(np.isfinite(ratios), ratios, np.inf)
    if taus is None:
        tau_values = np.unique(np.concatenate([[1.0], ratios[np.isfinite(ratios)]]))
    else:
        tau_values = np.asarray(taus, dtype="float64")
    fractions = (ratios[:, :, None] <= tau_values[None, None, :]).mean(axis=0) if len(costs) else np.zeros((0, 0))
    grid = pd.MultiIndex.from_product([wide.columns, tau_values], names=["solver", "tau"])
    return pd.DataFrame({"fraction": fractions.ravel()}, index=grid).reset_index().assign(n_problems=len(costs))
