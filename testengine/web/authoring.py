"""The item writers' screens: the bank browser, the item editor with its live check and
preview (the candidate's own question template), and an item's page with the review workflow,
its comments and its versions. Item writers only."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testengine.domain.centres import Actor
from testengine.domain.items import Item, ItemStatus, ItemType
from testengine.services import authoring, bank_coverage, bank_exchange, item_sets
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.lint import lint_policy
from testengine.web.context import checked_form, context
from testengine.web.staff import _go, render_staff, staff_page

ROWS = 8  # option rows on the form (the most any type allows)
PREMISE_ROWS = 6
DEPTH_SECONDS = 20.0  # the solver's limit for the disjoint-form figure on the coverage page


def _unit(request: Request) -> int:
    unit = int(request.path_params["unit"])
    if unit not in context(request).catalogue.units:
        raise HTTPException(404, f"There is no unit {unit}.")
    return unit


def form_to_item_data(form: dict[str, Any]) -> dict[str, Any]:
    """The editor's fields in the item file's shape (what authoring.parse_item reads);
    InvalidInput for a key typed in the wrong form."""

    def rows(prefix: str, count: int) -> list[dict[str, str]]:
        found = []
        for n in range(1, count + 1):
            choice_id, text = str(form.get(f"{prefix}-id-{n}") or "").strip(), str(form.get(f"{prefix}-text-{n}") or "").strip()
            if choice_id or text:
                found.append({"id": choice_id, "text": text})
        return found

    kind = str(form.get("type") or "")
    key, problems = authoring.key_from_text(kind, str(form.get("key") or ""))
    if problems:
        raise InvalidInput(problems)
    data: dict[str, Any] = {
        "type": kind, "stem": str(form.get("stem") or ""), "options": rows("option", ROWS), "premises": rows("premise", PREMISE_ROWS),
        "key": key, "scoring": str(form.get("scoring") or "all_or_nothing"), "author": str(form.get("author") or ""),
        "rationale": str(form.get("rationale") or ""), "amplification": str(form.get("amplification") or ""),
        "fixed_option_order": form.get("fixed_option_order") == "yes",
        "item_set": str(form.get("item_set") or "").strip() or None,
        "enemies": [e.strip() for e in str(form.get("enemies") or "").split(",") if e.strip()],
        "cognitive_level": str(form.get("cognitive_level") or "") or None,
    }
    criterion = str(form.get("criterion") or "")
    data["criterion"] = criterion
    for name, kind_of in (("marks", int), ("expected_seconds", int), ("facility", float), ("angoff", float), ("learning_outcome", int)):
        text = str(form.get(name) or "").strip()
        try:
            data[name] = kind_of(text)
        except ValueError:
            data[name] = text  # the shape check names the field
    return data


def item_to_form(item: Item) -> dict[str, Any]:
    """An item's values as the editor's fields."""
    data = authoring.item_fields(item)
    values: dict[str, Any] = {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
    for n, option in enumerate(item.options, start=1):
        values[f"option-id-{n}"], values[f"option-text-{n}"] = option.id, option.text
    for n, premise in enumerate(item.premises, start=1):
        values[f"premise-id-{n}"], values[f"premise-text-{n}"] = premise.id, premise.text
    if item.type is ItemType.MATCHING:
        values["key"] = ", ".join(f"{p}={o}" for p, o in zip(item.premise_ids, item.key, strict=True))
    else:
        values["key"] = ", ".join(item.key)
    values["enemies"] = ", ".join(sorted(item.enemies))
    values["item_set"] = item.item_set or ""
    values["cognitive_level"] = item.cognitive_level.value if item.cognitive_level else ""
    values["fixed_option_order"] = "yes" if item.fixed_option_order else ""
    return values


def preview_of(item: Item, scenario: str = "") -> dict[str, Any]:
    """What the player's question template needs, for an item no candidate is sitting."""
    return {"scenario": scenario, "stem": item.stem, "type": item.type, "options": item.options, "premises": item.premises,
            "select_count": item.select_count, "response": None}


@staff_page
async def index(request: Request, actor: Actor, csrf: str) -> Response:
    authoring.require_writer(actor)
    units = [(p.number, p.bank.unit.title) for p in context(request).catalogue.units.values()]
    return render_staff(request, "authoring/index.html", actor, csrf, {"units": units})


@staff_page
async def unit_page(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    unit = _unit(request)
    chosen = {name: str(request.query_params.get(name) or "") for name in authoring.BROWSE_FILTERS}
    rows = await run_in_threadpool(authoring.browse, ctx.engine, actor, ctx.catalogue, unit, chosen)
    spec = ctx.catalogue.unit(unit).bank.unit
    return render_staff(request, "authoring/unit.html", actor, csrf, {
        "unit": spec, "rows": rows, "chosen": chosen, "types": [t.value for t in ItemType], "statuses": [s.value for s in ItemStatus],
    })


async def _editor(request: Request, actor: Actor, csrf: str, unit: int, item: Item | None) -> Response:
    ctx = context(request)
    errors: list[str] = []
    values: dict[str, Any] = item_to_form(item) if item else {
        "type": "single", "scoring": "all_or_nothing", "marks": 1, "item_set": str(request.query_params.get("item_set") or ""),
    }
    if request.method == "POST":
        form = await checked_form(request, csrf)
        values = form
        try:
            data = form_to_item_data(form)
            if item is None:
                saved = await run_in_threadpool(authoring.create_item, ctx.engine, actor, ctx.catalogue, unit, data, ctx.clock())
            else:
                saved = await run_in_threadpool(authoring.edit_item, ctx.engine, actor, ctx.catalogue, item.id, data, ctx.clock(),
                                                str(form.get("comment") or ""))
            return _go(f"/bank/items/{saved.id}?saved=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    return render_staff(request, "authoring/editor.html", actor, csrf, {
        "unit": ctx.catalogue.unit(unit).bank.unit, "item": item, "values": values, "errors": errors, "rows": ROWS,
        "premise_rows": PREMISE_ROWS, "types": [t.value for t in ItemType],
    }, 400 if errors else 200)


@staff_page
async def new_item(request: Request, actor: Actor, csrf: str) -> Response:
    authoring.require_writer(actor)
    return await _editor(request, actor, csrf, _unit(request), None)


@staff_page
async def edit_item(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    history = await run_in_threadpool(authoring.history, ctx.engine, actor, request.path_params["item_id"])
    return await _editor(request, actor, csrf, history.latest.item.unit, history.latest.item)


@staff_page
async def check(request: Request, actor: Actor, csrf: str) -> Response:
    """The live check as the writer types: problems, lint findings and the preview."""
    ctx = context(request)
    authoring.require_writer(actor)
    form = await checked_form(request, csrf)
    unit = int(str(form.get("unit") or "0")) if str(form.get("unit") or "").isdigit() else 0
    if unit not in ctx.catalogue.units:
        raise HTTPException(400, "Unknown unit.")
    problems: list[str] = []
    findings: list[tuple[str, str]] = []
    preview = None
    try:
        item = authoring.parse_item(form_to_item_data(form), str(form.get("item_id") or f"U{unit}-0000"), 1, unit, ItemStatus.DRAFT)
        problems = await run_in_threadpool(_draft_problems, request, item)
        findings = await run_in_threadpool(authoring.lint_in_bank, ctx.engine, ctx.catalogue, lint_policy(ctx.settings.item_banks), item)
        preview = preview_of(item, _scenario(request, item))
    except InvalidInput as invalid:
        problems = invalid.messages
    return render_staff(request, "authoring/_check.html", actor, csrf, {"problems": problems, "findings": findings, "q": preview})


def _draft_problems(request: Request, item: Item) -> list[str]:
    ctx = context(request)
    with Session(ctx.engine) as session:
        return authoring.check_draft(session, ctx.catalogue, item)


def _scenario(request: Request, item: Item) -> str:
    found = context(request).catalogue.unit(item.unit).bank.item_set(item.item_set) if item.item_set else None
    return found.scenario if found else ""


@staff_page
async def item_page(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    item_id = request.path_params["item_id"]
    errors: list[str] = []
    status = 200
    notice = "Saved." if request.query_params.get("saved") else None
    policy = lint_policy(ctx.settings.item_banks)
    if request.method == "POST":
        form = await checked_form(request, csrf)
        action = str(form.get("action") or "")
        comment = str(form.get("comment") or "")
        try:
            if action == "comment":
                await run_in_threadpool(authoring.comment_on, ctx.engine, actor, item_id, comment, ctx.clock())
                notice = "Comment added."
            elif action in {s.value for s in ItemStatus}:
                moved = await run_in_threadpool(authoring.move, ctx.engine, actor, ctx.catalogue, policy, item_id, ItemStatus(action),
                                                comment, ctx.clock())
                notice = f"{item_id} v{moved.version} is now {moved.status.value.replace('_', ' ')}."
            else:
                raise InvalidInput([f"unknown action {action!r}"])
        except InvalidInput as invalid:
            errors, status = invalid.messages, 400
        except Forbidden as refused:  # e.g. approving one's own item: said on the item's page
            errors, status = [str(refused)], 403
    history = await run_in_threadpool(authoring.history, ctx.engine, actor, item_id)
    latest = history.latest.item
    previous = history.versions[-2].item if len(history.versions) > 1 else None
    moves = [to.value for (before, to) in authoring.MOVES if before is latest.status]
    criterion = ctx.catalogue.unit(latest.unit).bank.unit.criterion(latest.criterion)
    point = criterion.point(latest.amplification) if criterion else None
    return render_staff(request, "authoring/item.html", actor, csrf, {
        "history": history, "item": latest, "criterion": criterion, "point": point, "q": preview_of(latest, _scenario(request, latest)), "moves": moves,
        "findings": await run_in_threadpool(authoring.lint_in_bank, ctx.engine, ctx.catalogue, policy, latest), "errors": errors,
        "notice": notice,
        "diff": authoring.version_diff(previous, latest) if previous else [], "previous": previous,
    }, status)


@staff_page
async def coverage_page(request: Request, actor: Actor, csrf: str) -> Response:
    """Live items and marks per AC and point against the blueprint; the disjoint-form figure
    when asked for (a solver run of at most DEPTH_SECONDS)."""
    ctx = context(request)
    unit = _unit(request)
    depth = DEPTH_SECONDS if request.query_params.get("depth") else None
    report = await run_in_threadpool(bank_coverage.coverage, ctx.engine, actor, ctx.assembler, unit, depth)
    return render_staff(request, "authoring/coverage.html", actor, csrf, {"report": report, "depth_seconds": DEPTH_SECONDS})


@staff_page
async def sets_page(request: Request, actor: Actor, csrf: str) -> Response:
    """The unit's item sets; a new one is created here."""
    ctx = context(request)
    unit = _unit(request)
    errors: list[str] = []
    values: dict[str, Any] = {}
    if request.method == "POST":
        form = await checked_form(request, csrf)
        values = form
        try:
            saved = await run_in_threadpool(item_sets.save, ctx.engine, actor, ctx.catalogue, unit, None, str(form.get("title") or ""),
                                            str(form.get("scenario") or ""), ctx.clock())
            return _go(f"/bank/sets/{saved.id}?saved=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    listed = await run_in_threadpool(item_sets.sets_of, ctx.engine, actor, ctx.catalogue, unit)
    return render_staff(request, "authoring/sets.html", actor, csrf, {
        "unit": ctx.catalogue.unit(unit).bank.unit, "sets": listed, "errors": errors, "values": values,
    }, 400 if errors else 200)


@staff_page
async def set_page(request: Request, actor: Actor, csrf: str) -> Response:
    """A set's scenario and its items, each shown with it as candidates see them."""
    ctx = context(request)
    set_id = request.path_params["set_id"]
    errors: list[str] = []
    notice = "Saved." if request.query_params.get("saved") else None
    shown = await run_in_threadpool(item_sets.view, ctx.engine, actor, set_id)
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            await run_in_threadpool(item_sets.save, ctx.engine, actor, ctx.catalogue, shown.item_set.unit, set_id,
                                    str(form.get("title") or ""), str(form.get("scenario") or ""), ctx.clock())
            return _go(f"/bank/sets/{set_id}?saved=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    previews = [(item, preview_of(item, shown.item_set.scenario)) for item in shown.items]
    return render_staff(request, "authoring/set.html", actor, csrf, {
        "view": shown, "previews": previews, "errors": errors, "notice": notice,
    }, 400 if errors else 200)


MAX_IMPORT_BYTES = 2 * 1024 * 1024 - 64 * 1024  # within the form limit, with room for the other fields


@staff_page
async def import_page(request: Request, actor: Actor, csrf: str) -> Response:
    """Upload a QTI item or package, a YAML bank file or a spreadsheet: its items land as drafts."""
    ctx = context(request)
    unit = _unit(request)
    authoring.require_writer(actor)
    errors: list[str] = []
    report = None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        upload = form.get("file")
        try:
            if upload is None or not hasattr(upload, "read"):
                raise InvalidInput(["choose a file to import"])
            try:
                data = await upload.read(MAX_IMPORT_BYTES + 1)
            finally:
                await upload.close()
            if len(data) > MAX_IMPORT_BYTES:
                raise InvalidInput([f"the file is larger than {MAX_IMPORT_BYTES // 1024} KB: split it"])
            report = await run_in_threadpool(bank_exchange.import_upload, ctx.engine, actor, ctx.catalogue, unit,
                                             str(upload.filename or "upload"), data, ctx.clock())
        except InvalidInput as invalid:
            errors = invalid.messages
    return render_staff(request, "authoring/import.html", actor, csrf, {
        "unit": ctx.catalogue.unit(unit).bank.unit, "report": report, "errors": errors,
    }, 400 if errors else 200)


@staff_page
async def export_file(request: Request, actor: Actor, csrf: str) -> Response:
    """The unit's bank as a YAML export (every version) or a QTI 2.1 content package."""
    ctx = context(request)
    unit = _unit(request)
    authoring.require_writer(actor)
    kind = request.path_params["kind"]
    if kind == "yaml":
        body = (await run_in_threadpool(bank_exchange.export_yaml, ctx.engine, ctx.catalogue, unit)).encode()
        media = "application/yaml"
    elif kind == "zip":
        body = await run_in_threadpool(bank_exchange.export_qti, ctx.engine, ctx.catalogue, unit)
        media = "application/zip"
    else:
        raise HTTPException(404)
    name = f"unit-{unit}-bank.{kind}" if kind == "yaml" else f"unit-{unit}-qti.zip"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


routes = [
    Route("/bank", index),
    Route("/bank/units/{unit:int}", unit_page),
    Route("/bank/units/{unit:int}/new", new_item, methods=["GET", "POST"]),
    Route("/bank/units/{unit:int}/coverage", coverage_page),
    Route("/bank/units/{unit:int}/sets", sets_page, methods=["GET", "POST"]),
    Route("/bank/units/{unit:int}/import", import_page, methods=["GET", "POST"]),
    Route("/bank/units/{unit:int}/export.{kind:str}", export_file),
    Route("/bank/sets/{set_id:str}", set_page, methods=["GET", "POST"]),
    Route("/bank/check", check, methods=["POST"]),
    Route("/bank/items/{item_id:str}", item_page, methods=["GET", "POST"]),
    Route("/bank/items/{item_id:str}/edit", edit_item, methods=["GET", "POST"]),
]
