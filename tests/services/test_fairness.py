"""DIF on the engine's own sittings: groups from what centres record (gender) or the centre;
an item planted to favour one group is found in class C, and the rest are mostly class A."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlmodel import Session

from testengine.domain.centres import Actor, Role
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.analysis import analysis_settings
from testengine.services.fairness import DIF_TABLE_COLUMNS, NOT_RECORDED, group_counts, unit_dif
from testengine.services.simulation import simulate_sittings
from testengine.settings import PROJECT_ROOT
from testengine.storage.response_data import read_response_data
from testengine.storage.tables import CandidateRecord, CentreRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANALYST = Actor(1, "analyst", Role.ANALYST, None)
SITTINGS = 800


@pytest.fixture(scope="module")
def planted(module_database, shipped):
    """400 simulated sittings of Unit 5. On the most presented item, candidates who got it right
    are recorded as female 9 times in 10 and those who got it wrong as male 9 times in 10: at
    equal ability it favours the female group. Everyone else is female or male at random.
    Half the candidates belong to centre C1, the others to no centre."""
    from testengine.services.runtime import open_runtime
    from testengine.settings import Settings

    settings = Settings(
        database_url=module_database, item_banks=PROJECT_ROOT / "item_banks",
        blueprints=PROJECT_ROOT / "blueprints", invigilation=PROJECT_ROOT / "invigilation",
    )
    runtime = open_runtime(settings, shipped)
    simulate_sittings(runtime.engine, runtime.assembler, 5, SITTINGS, 11, NOW)
    data = read_response_data(runtime.engine, 5)
    planted_column = data.scores.notna().sum().idxmax()
    right = data.scores[planted_column] >= data.max_marks[planted_column]
    shown = data.scores[planted_column].notna()
    rng = np.random.default_rng(3)
    with Session(runtime.engine) as session:
        centre = CentreRecord(code="C1", name="Centre one", created_at=NOW)
        session.add(centre)
        session.flush()
        for k, (sitting_id, candidate_id) in enumerate(data.sittings["candidate_id"].items()):
            record = session.get(CandidateRecord, int(candidate_id))
            assert record is not None
            if shown[sitting_id]:
                leans = "female" if right[sitting_id] else "male"
                other = "male" if leans == "female" else "female"
                record.gender = leans if rng.random() < 0.75 else other
            else:
                record.gender = "female" if rng.random() < 0.5 else "male"
            record.centre_id = centre.id if k % 2 == 0 else None
            session.add(record)
        session.commit()
    yield runtime, str(planted_column), data
    runtime.engine.dispose()


def small_groups():
    settings = analysis_settings(PROJECT_ROOT / "reports")
    return replace(settings, dif=replace(settings.dif, min_reference=30, min_focal=30))


def test_the_groups_are_counted_from_what_the_centre_recorded(planted):
    runtime, _, data = planted
    genders = group_counts(runtime.engine, ANALYST, runtime.catalogue, 5, "gender")
    assert set(genders) == {"female", "male"} and sum(genders.values()) == data.counted
    centres = group_counts(runtime.engine, ANALYST, runtime.catalogue, 5, "centre")
    assert centres == {"C1": (data.counted + 1) // 2, NOT_RECORDED: data.counted // 2}


def test_the_planted_item_is_found_in_class_c_favouring_the_focal_group(planted):
    runtime, column, data = planted
    report = unit_dif(runtime.engine, ANALYST, runtime.catalogue, small_groups(), 5, "gender", "male", "female")
    assert list(report.table.columns) == list(DIF_TABLE_COLUMNS)
    assert report.table.iloc[0]["item"] == column  # classed items come first, the largest |D-DIF| first
    row = report.table.set_index("item").loc[column]
    assert row["ets_class"] == "C+" and row["d_dif"] > 1.5 and row["alpha_mh"] < 1
    assert row["n_reference"] + row["n_focal"] == int(data.scores[column].notna().sum())
    classed = report.table["ets_class"].dropna()
    assert (classed == "A").mean() > 0.8  # the others were not planted
    assert report.classes["in class C+"] >= 1
    assert any("reference 'male'" in c for c in report.conventions)


def test_items_below_the_minimum_group_sizes_are_listed_but_not_analysed(planted):
    runtime, _, _ = planted
    settings = analysis_settings(PROJECT_ROOT / "reports")  # 100 a group: more than any item of 400 sittings has
    report = unit_dif(runtime.engine, ANALYST, runtime.catalogue, settings, 5, "gender", "male", "female")
    assert report.table["ets_class"].isna().all()
    assert report.table["note"].str.startswith("not analysed: n_reference").all()


@pytest.mark.parametrize(
    ("by", "reference", "focal", "message"),
    [
        ("age", "old", "young", "group by 'age': choose gender or centre"),
        ("gender", "female", "female", "both 'female'"),
        ("gender", "male", "", "choose a reference group and a focal group"),
        ("gender", "male", "other", "no counted sitting of unit 5 is in the gender group 'other'"),
    ],
)
def test_bad_choices_say_what_is_wrong(planted, by, reference, focal, message):
    runtime, _, _ = planted
    with pytest.raises(InvalidInput, match=message):
        unit_dif(runtime.engine, ANALYST, runtime.catalogue, small_groups(), 5, by, reference, focal)


def test_only_analysts_see_dif(planted):
    runtime, _, _ = planted
    with pytest.raises(Forbidden):
        group_counts(runtime.engine, Actor(2, "admin", Role.CENTRE_ADMIN, 1), runtime.catalogue, 5, "gender")
    with pytest.raises(Forbidden):
        unit_dif(runtime.engine, Actor(3, "writer", Role.ITEM_WRITER, None), runtime.catalogue, small_groups(), 5, "gender", "male", "female")
