"""Items in and out of the database bank: the YAML export restores without loss (versions,
statuses, writers), YAML and spreadsheet imports land drafts item by item with row-level
errors, and nothing is half imported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from openpyxl import Workbook
from sqlmodel import Session

from testengine.domain.centres import Actor, Role
from testengine.domain.items import ItemStatus
from testengine.domain.problems import DataError
from testengine.services import authoring, bank_exchange
from testengine.services.lint import lint_policy
from testengine.services.runtime import open_runtime
from testengine.settings import PROJECT_ROOT, Settings
from testengine.storage.bank_items import unit_records, versions_of
from testengine.storage.item_records import item_to_json
from tests.services.test_authoring import MATCHING

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = Actor(11, "anna", Role.ITEM_WRITER, None)
BEN = Actor(12, "ben", Role.ITEM_WRITER, None)
HEADER = ["type", "learning_outcome", "criterion", "amplification", "stem", "option_a", "option_b", "option_c", "option_d",
          "key", "marks", "expected_seconds", "facility", "angoff", "rationale", "author"]
GOOD_ROW = ["single", "1", "1.1", "customer-experience", "Which of these best describes the customer experience?",
            "The sale only", "The sum of every contact with the organisation", "The number of purchases", "The feedback given",
            "b", "1", "40", "0.7", "0.6", "The customer experience is the sum of every contact (b).", "Sheet Writer"]


def fresh_runtime(another_database, shipped, name: str):
    settings = Settings(database_url=another_database(name), item_banks=PROJECT_ROOT / "item_banks",
                        blueprints=PROJECT_ROOT / "blueprints", invigilation=PROJECT_ROOT / "invigilation")
    return open_runtime(settings, shipped, NOW)


def test_the_yaml_export_restores_every_version_status_and_writer_into_another_engine(runtime, shipped, tmp_path, another_database):
    policy = lint_policy(PROJECT_ROOT / "item_banks")
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.IN_REVIEW, "", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.APPROVED, "", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.LIVE, "", NOW)
    authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, item.id, {**MATCHING, "marks": 3}, NOW)  # live: makes v2
    exported = tmp_path / "unit-5.yaml"
    exported.write_text(bank_exchange.export_yaml(runtime.engine, runtime.catalogue, 5), encoding="utf-8")

    other = fresh_runtime(another_database, shipped, "other")
    report = bank_exchange.import_file(other.engine, other.catalogue, 5, exported, "restorer", NOW, exact=True)
    assert [(x.item_id, x.version) for x in report.landed] == [(item.id, 1), (item.id, 2)]
    assert len(report.skipped) == len(shipped.unit(5).bank.items) and report.refused == []
    with Session(runtime.engine) as a, Session(other.engine) as b:
        assert [(r.item_id, r.version, r.status, r.content, r.created_by) for r in unit_records(a, 5)] == [
            (r.item_id, r.version, r.status, r.content, r.created_by) for r in unit_records(b, 5)]
    # Again: everything is there already; a changed version is refused, not overwritten.
    again = bank_exchange.import_file(other.engine, other.catalogue, 5, exported, "restorer", NOW, exact=True)
    assert again.landed == [] and len(again.skipped) == len(shipped.unit(5).bank.items) + 2
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    data["items"][-1]["stem"] = "Changed behind the engine's back."
    exported.write_text(yaml.safe_dump(data), encoding="utf-8")
    changed = bank_exchange.import_file(other.engine, other.catalogue, 5, exported, "restorer", NOW, exact=True)
    assert changed.refused[0].reasons == ("this version is already in the bank with other content",)


def test_a_yaml_bank_file_lands_as_new_drafts_and_a_bad_item_is_refused_alone(runtime, tmp_path):
    good = {**MATCHING, "id": "X-1", "version": 3, "unit": 5, "status": "live", "enemies": ["U5-0003", "ELSEWHERE-9"]}
    bad = {**MATCHING, "id": "X-2", "version": 1, "unit": 5, "status": "live", "key": 42}
    path = tmp_path / "items.yaml"
    path.write_text(yaml.safe_dump({"items": [good, bad]}), encoding="utf-8")
    report = bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, path, "importer", NOW)
    assert len(report.landed) == 1 and report.landed[0].source == "X-1 v3"
    landed = report.landed[0]
    assert "enemies not in this bank left out: ELSEWHERE-9" in landed.notes
    assert report.refused[0].source == "X-2 v1" and "key" in " ".join(report.refused[0].reasons)
    with Session(runtime.engine) as session:
        [record] = versions_of(session, landed.item_id)
    assert (record.version, record.status, record.created_by) == (1, "draft", "importer")
    assert record.content["enemies"] == ["U5-0003"]


def test_a_spreadsheet_lands_good_rows_and_names_the_row_and_column_of_each_bad_one(runtime, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(GOOD_ROW)
    sheet.append([*GOOD_ROW[:10], "one", *GOOD_ROW[11:]])  # marks not a number
    sheet.append([*GOOD_ROW[:2], "9.9", *GOOD_ROW[3:]])  # no such AC: lands, but must be fixed before review
    sheet.append([])
    path = tmp_path / "items.xlsx"
    book.save(path)
    report = bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, path, "importer", NOW)
    assert [x.source for x in report.landed] == ["row 2", "row 4"]
    assert report.landed[0].notes == ()
    assert any("AC '9.9' is not an assessment criterion" in n for n in report.landed[1].notes)
    assert [(x.source, x.reasons) for x in report.refused] == [("row 3", ("column marks: 'one' is not a whole number",))]
    csv_path = tmp_path / "items.csv"
    csv_path.write_text(",".join(HEADER[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="column 'author' is missing"):
        bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, csv_path, "importer", NOW)


def test_unknown_files_and_a_restore_of_something_else_are_refused_with_the_reason(runtime, tmp_path):
    odd = tmp_path / "items.docx"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="give a .yaml, .xml, .zip, .xlsx or .csv file"):
        bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, odd, "importer", NOW)
    plain = tmp_path / "items.yaml"
    plain.write_text(yaml.safe_dump({"items": []}), encoding="utf-8")
    with pytest.raises(DataError, match="--exact restores a file written by"):
        bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, plain, "importer", NOW, exact=True)


def test_a_qti_package_of_the_bank_lands_in_another_engine_as_drafts_with_the_same_content(runtime, shipped, tmp_path, another_database):
    package = tmp_path / "unit-5.zip"
    package.write_bytes(bank_exchange.export_qti(runtime.engine, runtime.catalogue, 5))
    other = fresh_runtime(another_database, shipped, "other")
    report = bank_exchange.import_file(other.engine, other.catalogue, 5, package, "importer", NOW)
    bank = shipped.unit(5).bank
    assert len(report.landed) == len(bank.items) and report.refused == []
    with Session(other.engine) as session:
        for landed in report.landed[:20]:
            [record] = versions_of(session, landed.item_id)
            original = bank.item(landed.source.split(": ")[1].rsplit("-v", 1)[0])
            assert record.status == "draft" and record.created_by == "importer"
            for name in ("stem", "options", "premises", "key", "marks", "scoring", "rationale", "criterion", "amplification"):
                assert record.content[name] == item_to_json(original)[name], name


def test_the_ims_examples_import_item_by_item_with_what_could_not_be_mapped(runtime, tmp_path):
    examples = PROJECT_ROOT.parent / "shared" / "qti" / "ims-examples"
    if not examples.exists():
        pytest.skip(f"the IMS QTI examples are not vendored (GPL-2.0 qti-sdk samples); looked in {examples}")
    order = bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, examples / "order.xml", "importer", NOW)
    assert len(order.landed) == 1 and any("to fix before review" in n for n in order.landed[0].notes)
    associate = bank_exchange.import_file(runtime.engine, runtime.catalogue, 5, examples / "associate.xml", "importer", NOW)
    assert associate.landed == [] and associate.refused[0].reasons[0].startswith("associateInteraction is not one of the engine's item types")
