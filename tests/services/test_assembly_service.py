import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from testengine.domain.problems import DataError
from testengine.services.assembly import Assembler, AssemblyError, assemble_form, eligibility_for, store_form
from testengine.services.catalogue import Catalogue, UnitPackage
from testengine.storage.database import make_engine
from testengine.storage.forms import load_form
from testengine.storage.item_versions import keep_versions, load_versions
from testengine.storage.sittings import add_candidate, add_sitting, find_candidate
from testengine.storage.tables import ItemVersionRecord

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def test_an_assembled_form_is_frozen_and_stored_with_its_item_versions(engine, small_assembler):
    stored = assemble_form(engine, small_assembler, 9, 1234, NOW)
    with Session(engine) as session:
        form, rule = load_form(session, stored.form_id)
        versions = load_versions(session, form.refs)
    assert form == stored.form
    assert form.seed == 1234 and form.total_marks == 6
    assert set(versions) == set(form.refs)
    assert rule == small_assembler.catalogue.unit(9).blueprint.pass_rule


def test_the_same_seed_gives_the_same_form_each_time(engine, small_assembler):
    first = assemble_form(engine, small_assembler, 9, 99, NOW)
    second = assemble_form(engine, small_assembler, 9, 99, NOW)
    assert first.form == second.form and first.form_id != second.form_id


def sit(engine, assembler, candidate_number, seed):
    package = assembler.catalogue.unit(9)
    with Session(engine) as session, session.begin():
        candidate = find_candidate(session, candidate_number) or add_candidate(session, candidate_number, "A Candidate", NOW)
        form = assembler.choose(package, seed, eligibility_for(session, package, candidate_number))
        form_id = store_form(session, package, form, NOW, candidate.id)
        add_sitting(session, candidate.id, form_id, 9, NOW)
    return form


def test_a_resit_never_repeats_an_item_the_candidate_has_seen_while_the_pool_allows(engine, small_assembler):
    seen: set[str] = set()
    forms = 0
    with pytest.raises(AssemblyError, match="no eligible items .* already seen by candidate C0001"):
        for attempt in range(10):  # 24 items, 6 per form: at most four resits fit
            ids = {i.item_id for i in sit(engine, small_assembler, "C0001", attempt).items}
            assert not ids & seen
            seen |= ids
            forms += 1
    assert forms >= 2  # at most 3 of a criterion's 6 items per form: one form leaves every criterion 3


def test_exclude_seen_with_an_unknown_candidate_is_an_error(engine, small_assembler):
    with pytest.raises(LookupError, match="no candidate with candidate number 'NOBODY'"):
        assemble_form(engine, small_assembler, 9, 1, NOW, exclude_seen="NOBODY")


def test_items_over_the_exposure_cap_are_rested_once_enough_sittings_exist(engine, small_assembler):
    package = small_assembler.catalogue.unit(9)
    for k in range(20):
        sit(engine, small_assembler, f"C{k:04d}", k)
    with Session(engine) as session:
        eligibility = eligibility_for(session, package, None)
    assert eligibility.over_cap, "20 sittings of 6 from 24 items put some items over a 25% cap"
    assert all(0 < share <= 1 for share in eligibility.usage.values())
    form = small_assembler.choose(package, 77, eligibility)
    assert not {i.item_id for i in form.items} & eligibility.over_cap or form.exposure_relaxed


def test_an_item_changed_without_a_new_version_is_refused(engine, small_assembler):
    assemble_form(engine, small_assembler, 9, 5, NOW)
    package = small_assembler.catalogue.unit(9)
    with Session(engine) as session:
        stored_ids = set(session.exec(select(ItemVersionRecord.item_id)).all())
    changed_bank = replace(
        package.bank,
        items=tuple(replace(i, stem=i.stem + " (edited)") if i.id in stored_ids else i for i in package.bank.items),
    )
    changed = Assembler(Catalogue({9: UnitPackage(changed_bank, package.blueprint, "digest")}))
    seeds_tried = 0
    with pytest.raises(DataError, match="already been put on a form with different content"):
        for seed in range(50):  # some form will include a stored item
            seeds_tried += 1
            assemble_form(engine, changed, 9, seed, NOW)
    assert seeds_tried < 50


def freeze_at_once(runtime, orders, prepare=lambda engine: None, first=lambda: None) -> list[BaseException]:
    """keep_versions of each list of items in its own transaction on its own engine (as each
    server process has), all in threads at once; `prepare` is given each engine before, and
    `first` runs inside each transaction before it stores anything. The failures."""
    url = runtime.engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in orders]
    failures: list[BaseException] = []

    def freeze(engine, items) -> None:
        try:
            with Session(engine) as session, session.begin():
                first()
                keep_versions(session, items, datetime(2026, 11, 23, tzinfo=UTC))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            failures.append(exc)

    for engine in engines:
        prepare(engine)
    threads = [threading.Thread(target=freeze, args=(engine, items)) for engine, items in zip(engines, orders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for engine in engines:
        engine.dispose()
    return failures


def test_two_processes_freezing_the_same_new_item_version_at_once_both_succeed(runtime):
    """With several server processes, two candidates' forms may put an item version on a form
    for the first time in the same instant; both transactions must succeed and store it once."""
    item = runtime.catalogue.unit(5).bank.items[0]
    gate = threading.Barrier(4)
    assert freeze_at_once(runtime, [[item]] * 4, first=lambda: gate.wait(timeout=10)) == []
    with Session(runtime.engine) as session:
        assert len(session.exec(select(ItemVersionRecord).where(ItemVersionRecord.item_id == item.id)).all()) == 1


def test_exposure_is_counted_over_the_units_most_recent_sittings_only(engine, small_assembler):
    """With a window of 5, the counts are those of the last 5 forms given, whatever came before:
    the items of the first sittings stop counting once 5 newer ones exist."""
    package = small_assembler.catalogue.unit(9)
    windowed = replace(package, blueprint=replace(package.blueprint, exposure=replace(package.blueprint.exposure, window=5)))
    forms = [sit(engine, small_assembler, f"W{k:04d}", 100 + k) for k in range(8)]
    with Session(engine) as session:
        eligibility = eligibility_for(session, windowed, None)
        everything = eligibility_for(session, package, None)
    recent = Counter(i.item_id for form in forms[-5:] for i in form.items)
    assert eligibility.usage == {item_id: n / 5 for item_id, n in recent.items()}
    overall = Counter(i.item_id for form in forms for i in form.items)
    assert everything.usage == {item_id: n / 8 for item_id, n in overall.items()}


def test_two_starts_storing_the_same_new_versions_in_opposite_orders_do_not_deadlock(runtime):
    """Forms list their items in shuffled orders. Two Starts freezing the same new item versions
    in opposite orders each held one row the other wanted (a deadlock, which PostgreSQL breaks
    by failing one Start): the scale benchmark found it. Each transaction here waits, after its
    first insert, for the other's first insert (or 2 s, when the other is blocked behind it)."""
    if runtime.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: its transactions never hold rows against each other")
    first, second = runtime.catalogue.unit(5).bank.items[:2]
    both_inserted = threading.Barrier(2)

    def pause_after_first_insert(engine) -> None:
        done = threading.local()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.startswith("INSERT INTO item_versions") and not getattr(done, "paused", False):
                done.paused = True
                try:
                    both_inserted.wait(timeout=2)
                except threading.BrokenBarrierError:
                    pass  # the other is waiting for a row this one holds: carry on

    assert freeze_at_once(runtime, [[first, second], [second, first]], prepare=pause_after_first_insert) == []
    with Session(runtime.engine) as session:
        stored = session.exec(select(ItemVersionRecord).where(col(ItemVersionRecord.item_id).in_([first.id, second.id]))).all()
    assert len(stored) == 2
