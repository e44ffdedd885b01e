"""What the analysts' screens show: a unit's statistics (kept until new results arrive), an
item's page (its versions, distractors, history, characteristic curve and decisions), and the
calibration runs that feed assembly. Analysts only."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from testengine.domain.centres import Actor
from testengine.domain.items import Item
from testengine.psychometrics.characteristic import empirical_curve
from testengine.services.analysis import AnalysisSettings
from testengine.services.catalogue import Catalogue, current_catalogue
from testengine.services.errors import NotFound
from testengine.services.item_review import require_analyst
from testengine.services.item_statistics import HistoryPoint, UnitStatistics, item_history, unit_statistics
from testengine.storage.centres import audit
from testengine.storage.item_decisions import Calibrated, Decision, decision_history, save_calibration
from testengine.storage.response_data import full_marks, read_response_data
from testengine.storage.tables import ResultRecord

_cache: dict[tuple[str, int], tuple[tuple[int, int], UnitStatistics]] = {}
_cache_lock = threading.Lock()


def statistics(engine: Engine, actor: Actor, catalogue: Catalogue, settings: AnalysisSettings, unit: int) -> UnitStatistics:
    """The unit's statistics, computed again only when a sitting has been marked since or the
    bank has changed (the item table shows each item's status in the bank now)."""
    require_analyst(actor)
    catalogue = current_catalogue(engine, catalogue)
    with Session(engine) as session:
        marker = (int(session.exec(select(func.max(ResultRecord.id))).one() or 0), catalogue.unit(unit).bank_revision)
    key = (str(engine.url), unit)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == marker and cached[1].settings == settings:
        return cached[1]
    computed = unit_statistics(engine, catalogue, settings, unit)
    with _cache_lock:
        _cache[key] = (marker, computed)
    return computed


def unit_of(catalogue: Catalogue, item_id: str) -> tuple[int, Item]:
    for package in catalogue.units.values():
        item = package.bank.item(item_id)
        if item is not None:
            return package.number, item
    raise NotFound(f"no item {item_id!r} in the banks")


@dataclass(frozen=True)
class ItemPage:
    unit: int
    item: Item  # the version in the bank now
    versions: pd.DataFrame  # the unit table's rows for this item, one per version used
    options: pd.DataFrame
    history: list[HistoryPoint]
    curve: list[tuple[float, float, int]]  # ability group: mean theta, proportion correct, n
    curve_difficulty: float | None
    decisions: list[Decision]


def item_page(engine: Engine, actor: Actor, catalogue: Catalogue, settings: AnalysisSettings, item_id: str) -> ItemPage:
    catalogue = current_catalogue(engine, catalogue)
    unit, item = unit_of(catalogue, item_id)
    stats = statistics(engine, actor, catalogue, settings, unit)
    rows = stats.items[stats.items["item_id"] == item_id]
    options = stats.options[stats.options["item_id"] == item_id]
    history = item_history(engine, catalogue, unit, item_id)
    curve: list[tuple[float, float, int]] = []
    difficulty = None
    if len(rows):
        latest = rows.sort_values("version").iloc[-1]
        b = latest["b"]
        difficulty = float(b) if b is not None and not (isinstance(b, float) and math.isnan(b)) else None
        if difficulty is not None:
            curve = _curve(engine, stats, unit, str(latest["item"]))
    with Session(engine) as session:
        decisions = decision_history(session, item_id)
    return ItemPage(unit, item, rows, options, history, curve, difficulty, decisions)


def _curve(engine: Engine, stats: UnitStatistics, unit: int, column: str) -> list[tuple[float, float, int]]:
    data = read_response_data(engine, unit)
    if column not in data.scores.columns:
        return []
    difficulties = stats.items.set_index("item")["b"].reindex(data.scores.columns).to_numpy(dtype=np.float64)
    return empirical_curve(full_marks(data.scores, data.max_marks), difficulties, list(data.scores.columns).index(column))


def calibrate(engine: Engine, actor: Actor, catalogue: Catalogue, settings: AnalysisSettings, unit: int, now: datetime) -> tuple[int, int]:
    """Store a calibration run from the unit's statistics: the facility and Rasch difficulty
    of every item version with at least the settings' minimum of responses. Returns the run
    number and how many item versions it holds; assembly uses it from then on."""
    stats = statistics(engine, actor, catalogue, settings, unit)
    rows = stats.items
    enough = rows[(rows["rasch_n"] >= settings.min_calibration_responses) & rows["b"].notna()]
    values = [
        Calibrated(str(r.item_id), int(r.version), int(r.n), float(r.p), float(r.b))
        for r in enough.itertuples(index=False)
    ]
    with Session(engine) as session, session.begin():
        run = save_calibration(session, unit, values, now)
        audit(session, now, actor.username, "unit.calibrated", f"unit {unit}", {"run": run, "items": len(values)})
    return run, len(values)


def table_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return list(frame.to_dict(orient="records"))
