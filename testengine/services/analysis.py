"""Item analysis for analysts: classical statistics, Rasch calibration and Mantel-Haenszel DIF
on a response matrix, with the settings of reports/analysis.yaml, written as CSV files and one
HTML report that states every convention and setting it used."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import jinja2
import pandas as pd

from testengine.domain.problems import DataError, Problem, Source
from testengine.psychometrics import classical
from testengine.psychometrics.item_flags import Thresholds
from testengine.psychometrics.dif import mantel_haenszel_dif
from testengine.psychometrics.rasch import calibrate
from testengine.storage.analysis_file import read_analysis_file
from testengine.storage.response_files import read_groups, read_key, read_responses, score

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("testengine", "services/report_templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
TEST_COLUMNS = ("n", "k", "mean", "sd", "alpha", "sem")
RASCH_COLUMNS = ("item", "b", "se", "infit", "outfit")
DIF_COLUMNS = ("item", "alpha_mh", "d_dif", "se", "chi2", "p_value", "ets_class")


@dataclass(frozen=True)
class DifSettings:
    min_reference: int = 100
    min_focal: int = 100
    significance: float = 0.05
    critical_z: float = 1.645


@dataclass(frozen=True)
class AnalysisSettings:
    thresholds: Thresholds
    dif: DifSettings
    min_calibration_responses: int
    source: str  # the file they came from, named in every report

    def described(self) -> list[tuple[str, str]]:
        """Every setting and its value, for the report."""
        values = [(f"flags.{k}", str(v)) for k, v in vars(self.thresholds).items()]
        values += [(f"dif.{k}", str(v)) for k, v in vars(self.dif).items()]
        values.append(("calibration.min_responses", str(self.min_calibration_responses)))
        return values


def analysis_settings(folder: Path) -> AnalysisSettings:
    """reports/analysis.yaml, checked: a wrong threshold is named with the file."""
    read = read_analysis_file(folder)
    thresholds = Thresholds.from_mapping(read.flags, Source(read.source))
    return AnalysisSettings(thresholds, DifSettings(**read.dif), read.min_calibration_responses, read.source)


@dataclass(frozen=True)
class Analysis:
    title: str
    items: pd.DataFrame  # ITEM_COLUMNS
    options: pd.DataFrame | None  # OPTION_COLUMNS, when option labels and a key were given
    test: classical.TestStatistics
    rasch: pd.DataFrame  # RASCH_COLUMNS and the calibration's notes
    rasch_method: str
    rasch_reliability: float
    dif: pd.DataFrame | None
    dif_groups: tuple[str, str] | None  # reference, focal
    conventions: tuple[str, ...]
    settings: AnalysisSettings


def analyse(
    scores: pd.DataFrame,
    omitted: pd.DataFrame,
    settings: AnalysisSettings,
    title: str,
    choices: pd.DataFrame | None = None,
    keys: Mapping[Any, Any] | None = None,
    groups: dict[str, str] | None = None,
    reference: str | None = None,
    focal: str | None = None,
) -> Analysis:
    """Every statistic of the guide for a candidates x items matrix (NaN: not presented)."""
    options = None
    if choices is not None and keys is not None:
        options = classical.option_statistics(choices, keys, scores, None, omitted, thresholds=settings.thresholds)
    items = classical.item_statistics(scores, None, omitted, options=options, thresholds=settings.thresholds)
    test = classical.test_statistics(scores, None, omitted)
    binary = scores.where(scores.isna(), (scores > 0).astype(float))
    calibration = calibrate(binary)
    rasch = calibration.to_frame()
    dif = None
    dif_groups = None
    if groups is not None:
        if reference is None or focal is None:
            raise DataError([Problem(reason="DIF needs --reference and --focal group names")])
        labels = [groups.get(str(c)) for c in scores.index]
        present = {g for g in labels if g is not None}
        missing = [g for g in (reference, focal) if g not in present]
        if missing:
            raise DataError([Problem(reason=f"no candidate is in group {', '.join(map(repr, missing))} (groups found: {', '.join(sorted(present))})")])
        dif = mantel_haenszel_dif(
            binary, labels, reference, focal, min_reference=settings.dif.min_reference, min_focal=settings.dif.min_focal,
            significance=settings.dif.significance, critical_z=settings.dif.critical_z,
        )
        dif_groups = (reference, focal)
        items = _with_dif_flags(items, dif)
    conventions = (
        *classical.CONVENTIONS,
        f"Rasch calibration: {calibration.method}.",
        "DIF: Mantel-Haenszel, strata = proportion correct on the candidate's own items; ETS classes A/B/C, sign appended." if dif is not None else "",
    )
    return Analysis(
        title=title, items=items, options=options, test=test, rasch=rasch, rasch_method=calibration.method,
        rasch_reliability=calibration.reliability, dif=dif, dif_groups=dif_groups,
        conventions=tuple(c for c in conventions if c), settings=settings,
    )


def _with_dif_flags(items: pd.DataFrame, dif: pd.DataFrame) -> pd.DataFrame:
    classes = dict(zip(dif["item"], dif["ets_class"], strict=True))
    flagged = items.copy()

    def add(row: Any) -> str:
        ets = str(classes.get(row["item"]) or "")
        extra = "DIF_C" if ets.startswith("C") else "DIF_B" if ets.startswith("B") else ""
        return ";".join(f for f in (str(row["flags"] or ""), extra) if f)

    flagged["flags"] = flagged.apply(add, axis=1)
    return flagged


def analyse_files(
    responses: Path,
    settings: AnalysisSettings,
    key: Path | None = None,
    scored: bool = False,
    omit_code: str | None = None,
    groups: Path | None = None,
    reference: str | None = None,
    focal: str | None = None,
) -> Analysis:
    """`testengine analyse`: the files read and checked (every problem names file, row and
    column), then analysed."""
    if scored and key is not None:
        raise DataError([Problem(reason="--scored responses are already marked: leave out --key")])
    if not scored and key is None:
        raise DataError([Problem(reason="option labels need a key: give --key KEY.csv, or --scored for 0/1 data", file=str(responses))])
    cells, omitted = read_responses(responses, scored, omit_code)
    keys = read_key(key, cells) if key is not None else None
    marks = score(cells, keys)
    choices = cells if keys is not None else None
    by_group = read_groups(groups, cells.index) if groups is not None else None
    return analyse(marks, omitted, settings, responses.name, choices, keys, by_group, reference, focal)


def write_analysis(analysis: Analysis, out: Path, now: datetime) -> list[Path]:
    """items.csv, options.csv, test.csv, rasch.csv, dif.csv (with groups) and report.html."""
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(frame: pd.DataFrame, name: str) -> None:
        path = out / name
        frame.to_csv(path, index=False, float_format="%.10g")
        written.append(path)

    save(analysis.items[list(classical.ITEM_COLUMNS)], "items.csv")
    if analysis.options is not None:
        save(analysis.options[list(classical.OPTION_COLUMNS)], "options.csv")
    test = analysis.test
    save(pd.DataFrame([{"n": test.n, "k": test.k, "mean": test.mean, "sd": test.sd, "alpha": test.alpha, "sem": test.sem}]), "test.csv")
    save(analysis.rasch[list(RASCH_COLUMNS)], "rasch.csv")
    if analysis.dif is not None:
        save(analysis.dif[list(DIF_COLUMNS)], "dif.csv")
    report = out / "report.html"
    report.write_text(render_report(analysis, now), encoding="utf-8")
    written.append(report)
    return written


def render_report(analysis: Analysis, now: datetime) -> str:
    return TEMPLATES.get_template("analysis.html").render(a=analysis, now=now, number=number, records=_records)


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else list(frame.to_dict(orient="records"))


def number(value: Any, places: int = 3) -> str:
    """A statistic as reports show it: fixed places, a dash for none."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{places}f}"
    return str(value)
