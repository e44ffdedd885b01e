"""Does the bank cover the unit? Live items and marks per AC and amplification point, against
what the blueprint needs, and (on request, as it takes a solver) how many forms with no item in
common the live pool can make. Item writers' view of the bank as the database holds it now."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor
from testengine.services.assembly import Assembler
from testengine.services.authoring import require_writer
from testengine.services.banks import bank_stats
from testengine.services.blueprints import check_blueprint


def coverage(engine: Engine, actor: Actor, assembler: Assembler, unit: int, depth_seconds: float | None = None) -> dict[str, Any]:
    """bank_stats of the current bank, each AC with the blueprint's items per form; with
    depth_seconds, also the blueprint check (feasibility, disjoint forms, facility range)."""
    require_writer(actor)
    with Session(engine) as session:
        package = assembler.current(session, assembler.catalogue.unit(unit))
    stats = bank_stats(package.bank)
    needs = package.blueprint.criterion_items
    for criterion in stats["criteria"]:
        counts = needs.get(criterion["criterion"])
        criterion["needs"] = (counts.minimum, counts.maximum) if counts else None
        criterion["short"] = bool(counts and criterion["live_items"] < counts.minimum)
    stats["uncovered_points"] = [
        {"criterion": c["criterion"], **p} for c in stats["criteria"] for p in c["amplification"] if not p["live_items"]
    ]
    stats["form_marks"] = package.blueprint.total_marks
    stats["check"] = check_blueprint(assembler, package, depth_seconds) if depth_seconds else None
    stats["bank_revision"] = package.bank_revision
    return stats
