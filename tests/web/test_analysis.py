"""The analysts' screens through the web app: the unit's item table (filters, sorting, CSV and
Excel exports), an item's page, decisions with their trail, and a key correction that re-marks."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
from openpyxl import load_workbook

from testengine.services.demo import ensure_demo_centre
from testengine.services.simulation import simulate_sittings
from tests.web.conftest import csrf_of, sign_in


@pytest.fixture
def analyst(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    simulate_sittings(site.runtime.engine, site.runtime.assembler, 5, 80, 11, site.clock() - timedelta(days=1))
    client = site.client()
    sign_in(client, "analyst", "demo-analyst-password")
    return client


def test_the_unit_page_lists_every_item_version_with_its_statistics_and_the_conventions(analyst):
    page = analyst.get("/analysis/units/5")
    assert page.status_code == 200, page.text[:500]
    assert "Distribution of totals" in page.text and "Conventions and settings" in page.text
    assert "reports/analysis.yaml" in page.text and 'alt="Histogram of totals' in page.text
    csv = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/items.csv").text))
    assert {"item_id", "version", "n", "p", "r_item_rest", "exposure", "b", "flags"} <= set(csv.columns)
    assert len(csv) == page.text.count('href="/analysis/items/')
    assert csv["n"].between(1, 80).all()
    assert (csv["exposure"] - csv["n"] / 80).abs().max() < 1e-9  # share of the 80 sittings given the item


def test_filters_and_sorting_narrow_and_order_the_table(analyst):
    full = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/items.csv").text))
    criterion = str(full["criterion"].iloc[0])
    only = pd.read_csv(io.StringIO(analyst.get(f"/analysis/units/5/items.csv?criterion={criterion}&sort=p&order=desc").text))
    assert set(only["criterion"].astype(str)) == {criterion} and len(only) < len(full)
    assert list(only["p"]) == sorted(only["p"], reverse=True)
    page = analyst.get(f"/analysis/units/5?criterion={criterion}&sort=p&order=desc")
    assert 'aria-sort="descending"' in page.text


def test_the_excel_export_has_the_table_and_the_conventions(analyst):
    reply = analyst.get("/analysis/units/5/items.xlsx")
    assert reply.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(reply.content))
    assert workbook.sheetnames == ["items", "conventions"]
    header = [c.value for c in next(workbook["items"].iter_rows(max_row=1))]
    assert header[:3] == ["item", "item_id", "version"]


def test_an_item_page_shows_distractors_history_and_curve_and_keeps_the_decision_trail(analyst):
    csv = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/items.csv?type=single&sort=n&order=desc").text))
    item_id = csv["item_id"].iloc[0]
    page = analyst.get(f"/analysis/items/{item_id}")
    assert page.status_code == 200
    assert "Options (distractor analysis)" in page.text and "Over time" in page.text
    assert "Item characteristic curve" in page.text and "data:image/png;base64," in page.text
    refused = analyst.post(f"/analysis/items/{item_id}", data={"csrf_token": csrf_of(page.text), "action": "review", "reason": ""})
    assert refused.status_code == 400 and "say why" in refused.text
    done = analyst.post(f"/analysis/items/{item_id}", data={"csrf_token": csrf_of(page.text), "action": "review",
                                                            "reason": "distractor B is nearly right"})
    assert f"Item {item_id} marked for review." in done.text and "distractor B is nearly right" in done.text


def test_a_key_correction_from_the_item_page_remarks_and_lists_the_changes(analyst, site):
    csv = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/items.csv?type=single&sort=n&order=desc").text))
    row = csv.iloc[0]
    item = site.runtime.catalogue.unit(5).bank.item(row["item_id"])
    other = next(o.id for o in item.options if o.id != item.key)
    page = analyst.get(f"/analysis/items/{item.id}")
    reply = analyst.post(f"/analysis/items/{item.id}", data={
        "csrf_token": csrf_of(page.text), "action": "correct_key", "version": str(row["version"]), "key": other,
        "reason": "source checked: the answer is the other option"})
    assert reply.status_code == 200
    assert f"Key corrected: {int(row['n'])} sittings re-marked" in reply.text
    assert "Re-marked after the key correction" in reply.text


def test_only_analysts_reach_the_analysis_screens(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "invigilator", "demo-invigilator-password")
    assert client.get("/analysis").status_code == 403
    assert client.get("/analysis/units/5").status_code == 403


def test_median_time_on_screen_is_in_the_table_and_on_the_item_page_where_players_reported_it(analyst, site):
    from sqlalchemy import text

    with site.runtime.engine.begin() as connection:
        item_id = connection.execute(text("SELECT item_id FROM form_items GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 1")).scalar_one()
        rows = connection.execute(text(
            "SELECT r.sitting_id, r.position FROM responses r JOIN sittings s ON s.id = r.sitting_id "
            "JOIN form_items f ON f.form_id = s.form_id AND f.position = r.position WHERE f.item_id = :item"), {"item": item_id}).all()
        for seconds, (sitting, position) in zip([30, 50, 70, 90, 400], rows, strict=False):
            connection.execute(text("UPDATE responses SET seconds = :s WHERE sitting_id = :t AND position = :p"),
                               {"s": seconds, "t": sitting, "p": position})
    page = analyst.get(f"/analysis/items/{item_id}").text
    assert "Median time (s)" in page and "<td>70</td>" in page  # the median of 30, 50, 70, 90, 400
    table = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/items.csv").text)).set_index("item_id")
    assert table.loc[item_id, "median_seconds"] == 70 and table.drop(index=item_id)["median_seconds"].isna().all()


def test_a_unit_with_no_marked_sittings_says_so_instead_of_failing(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "analyst", "demo-analyst-password")
    page = client.get("/analysis/units/4")
    assert page.status_code == 200 and "0 sittings counted" in page.text and "No item matches." in page.text


def test_the_dif_page_groups_candidates_by_recorded_gender_and_exports_the_table(analyst, site):
    from sqlmodel import Session, select

    from testengine.storage.tables import CandidateRecord

    with Session(site.runtime.engine) as session:
        for k, record in enumerate(session.exec(select(CandidateRecord)).all()):
            record.gender = ("female", "male", None)[k % 3]
            session.add(record)
        session.commit()
    page = analyst.get("/analysis/units/5/dif?by=gender")
    assert page.status_code == 200
    assert "Reference group" in page.text and "not recorded (" in page.text and "female (" in page.text
    result = analyst.get("/analysis/units/5/dif?by=gender&reference=male&focal=female")
    assert result.status_code == 200
    assert "male (reference) and female (focal)" in result.text
    # 80 sittings are too few for the 100-a-group minimum of reports/analysis.yaml: listed, not analysed.
    assert "not analysed: n_reference" in result.text
    csv = pd.read_csv(io.StringIO(analyst.get("/analysis/units/5/dif.csv?by=gender&reference=male&focal=female").text))
    assert {"item", "item_id", "n_reference", "n_focal", "d_dif", "ets_class", "note"} <= set(csv.columns)
    assert len(csv) == result.text.count('href="/analysis/items/')
    same = analyst.get("/analysis/units/5/dif?by=gender&reference=male&focal=male")
    assert same.status_code == 400 and "choose two different groups" in same.text
    assert analyst.get("/analysis/units/5/dif.csv?by=shoe&reference=a&focal=b").status_code == 400


def test_only_analysts_reach_the_dif_page(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "invigilator", "demo-invigilator-password")
    assert client.get("/analysis/units/5/dif").status_code == 403
