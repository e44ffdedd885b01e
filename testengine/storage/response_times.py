"""How long items were on screen: the median of the seconds players reported with each answer,
per item version, over a unit's counted sittings."""

from __future__ import annotations

from statistics import median

from sqlalchemy import text
from sqlalchemy.engine import Engine

# A partial index (responses with a time) keeps this cheap where players did not report times.
_QUERY = """
SELECT f.item_id, f.version, r.seconds
FROM responses r
JOIN sittings s ON s.id = r.sitting_id
JOIN form_items f ON f.form_id = s.form_id AND f.position = r.position
WHERE r.seconds IS NOT NULL AND s.unit = :unit AND s.status NOT IN ('voided', 'absent', 'abandoned')
  AND (:practice OR NOT s.practice) AND (:simulated OR NOT s.simulated)
"""


def median_seconds(engine: Engine, unit: int, include_practice: bool, include_simulated: bool) -> dict[tuple[str, int], float]:
    times: dict[tuple[str, int], list[int]] = {}
    with engine.connect() as connection:
        rows = connection.execute(text(_QUERY), {"unit": unit, "practice": include_practice, "simulated": include_simulated})
        for item_id, version, seconds in rows:
            times.setdefault((str(item_id), int(version)), []).append(int(seconds))
    return {key: float(median(values)) for key, values in times.items()}
