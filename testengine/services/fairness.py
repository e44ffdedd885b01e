"""Differential item functioning on the engine's own sittings: does an item favour one group of
candidates over another of the same ability? Groups come from what centres record about their
candidates (gender, optional) or from the centre itself. Analysts only, and only in aggregate:
no candidate is named and a group below the settings' minimum size is not analysed.

The statistics are psychometrics.dif (Mantel-Haenszel, ETS classes); the data are those of the
item table (storage.response_data: the marking in force of every counted sitting), each item
version scored 1 only with full marks, as for the Rasch calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor
from testengine.psychometrics.dif import COLUMNS, mantel_haenszel_dif
from testengine.services.analysis import AnalysisSettings
from testengine.services.catalogue import Catalogue
from testengine.services.errors import InvalidInput
from testengine.services.item_review import require_analyst
from testengine.storage.centres import candidate_groups
from testengine.storage.response_data import ResponseData, full_marks, read_response_data

GROUPINGS = {"gender": "gender, as the centre recorded it", "centre": "centre"}
NOT_RECORDED = "not recorded"
DIF_TABLE_COLUMNS = ("item", "item_id", "version", "criterion", *COLUMNS[1:])


@dataclass(frozen=True, eq=False)
class DifReport:
    unit: int
    by: str
    reference: str
    focal: str
    table: pd.DataFrame  # DIF_TABLE_COLUMNS, one row per item version, classed ones first by |D-DIF|
    counts: dict[str, int]  # counted sittings per group label
    conventions: tuple[str, ...]

    @property
    def classes(self) -> dict[str, int]:
        """How many item versions fell in each ETS class (B and C by sign), and how many have none."""
        found = self.table["ets_class"].fillna("not classed").value_counts()
        order = ["A", "B+", "B-", "C+", "C-", "not classed"]
        return {f"in class {name}" if name != "not classed" else name: int(found.get(name, 0)) for name in order if found.get(name, 0)}


def group_counts(engine: Engine, actor: Actor, catalogue: Catalogue, unit: int, by: str) -> dict[str, int]:
    """How many counted sittings of the unit fall in each group, largest first."""
    require_analyst(actor)
    _check_grouping(by)
    data = read_response_data(engine, catalogue.unit(unit).number)
    return _counts(_labels(engine, data, by))


def unit_dif(
    engine: Engine, actor: Actor, catalogue: Catalogue, settings: AnalysisSettings, unit: int, by: str, reference: str, focal: str
) -> DifReport:
    """Mantel-Haenszel DIF of every item version of the unit between two groups."""
    require_analyst(actor)
    _check_grouping(by)
    if not reference or not focal:
        raise InvalidInput(["choose a reference group and a focal group"])
    if reference == focal:
        raise InvalidInput([f"the reference and focal groups are both {reference!r}: choose two different groups"])
    package = catalogue.unit(unit)
    data = read_response_data(engine, package.number)
    labels = _labels(engine, data, by)
    counts = _counts(labels)
    missing = [name for name in (reference, focal) if name not in counts]
    if missing:
        found = ", ".join(f"{label} ({n})" for label, n in counts.items()) or "none"
        raise InvalidInput([f"no counted sitting of unit {package.number} is in the {by} group {name!r} (groups: {found})" for name in missing])
    dif = settings.dif
    table = mantel_haenszel_dif(
        pd.DataFrame(full_marks(data.scores, data.max_marks), index=data.scores.index, columns=data.scores.columns), labels,
        reference, focal, min_reference=dif.min_reference, min_focal=dif.min_focal,
        significance=dif.significance, critical_z=dif.critical_z,
    )
    meta = data.items.reindex(table["item"].tolist())
    for at, name in enumerate(("item_id", "version", "criterion"), start=1):
        table.insert(at, name, meta[name].to_numpy())
    # Classed items by |D-DIF|, largest first; then those without a class (too few, or no contrast).
    size = table["d_dif"].abs().where(table["ets_class"].notna())
    order = size.sort_values(ascending=False, na_position="last", kind="stable").index
    conventions = (
        f"Groups: {GROUPINGS[by]}; reference {reference!r} ({counts[reference]} sittings), focal {focal!r} ({counts[focal]}).",
        "Data: the marking in force of every counted sitting of the unit (as the item table); an item version scores 1 "
        "only with full marks.",
        "Mantel-Haenszel: candidates presented the item, matched on their proportion correct over their own form "
        "(studied item included); alpha_MH > 1 favours the reference group; D-DIF = -2.35 ln(alpha_MH), negative "
        "disfavours the focal group.",
        f"ETS classes: A unless chi-square p < {dif.significance} and |D| >= 1; C when |D| >= 1.5 and (|D| - 1) / SE > "
        f"{dif.critical_z}; otherwise B; the sign says which group the item disfavours (- : focal).",
        f"Items with fewer than {dif.min_reference} reference or {dif.min_focal} focal candidates are not analysed.",
    )
    return DifReport(package.number, by, reference, focal, table.loc[order, list(DIF_TABLE_COLUMNS)].reset_index(drop=True),
                     counts, conventions)


def _check_grouping(by: str) -> None:
    if by not in GROUPINGS:
        raise InvalidInput([f"group by {by!r}: choose {' or '.join(GROUPINGS)}"])


def _labels(engine: Engine, data: ResponseData, by: str) -> list[str]:
    """Each counted sitting's group label, in the order of data.sittings."""
    candidates = data.sittings["candidate_id"].astype(int).tolist()
    with Session(engine) as session:
        known = candidate_groups(session, sorted(set(candidates)))
    column = 0 if by == "centre" else 1
    return [known.get(c, ("", ""))[column] or NOT_RECORDED for c in candidates]


def _counts(labels: list[str]) -> dict[str, int]:
    counted = pd.Series(labels, dtype=object).value_counts(sort=True)
    return {str(label): int(n) for label, n in counted.items()}
