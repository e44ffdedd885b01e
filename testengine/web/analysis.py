"""The psychometric analysts' screens: a unit's item statistics (sortable, filterable by flag,
AC, type and status; CSV and Excel exports), the unit's score distribution and reliability,
DIF between two groups of candidates, and an item's page with its distractors, statistics over time and characteristic curve, where
analysts mark it for review, retire it, clear it or correct its key. Analysts only."""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testengine.domain.centres import Actor
from testengine.domain.problems import DataError
from testengine.services import analyst, fairness, item_review
from testengine.services.analysis import AnalysisSettings, analysis_settings, number
from testengine.services.errors import InvalidInput
from testengine.services.item_review import require_analyst
from testengine.web import charts
from testengine.web.context import checked_form, client_address, context
from testengine.web.staff import render_staff, staff_page

FILTERS = ("flag", "criterion", "type", "status")
SORTABLE = ("item", "criterion", "type", "status", "n", "omit_rate", "p", "r_item_rest", "d_upper_lower", "disc_efficiency",
            "exposure", "median_seconds", "b", "infit", "outfit")


def _settings(request: Request) -> AnalysisSettings:
    try:
        return analysis_settings(context(request).settings.reports)
    except DataError as exc:
        raise HTTPException(500, f"reports/analysis.yaml is not valid: {exc}") from exc


def _unit(request: Request) -> int:
    unit = int(request.path_params["unit"])
    if unit not in context(request).catalogue.units:
        raise HTTPException(404, f"There is no unit {unit}.")
    return unit


@staff_page
async def index(request: Request, actor: Actor, csrf: str) -> Response:
    require_analyst(actor)
    units = [(p.number, p.bank.unit.title, len(p.bank.items)) for p in context(request).catalogue.units.values()]
    return render_staff(request, "analysis/index.html", actor, csrf, {"units": units})


def _filtered(items: pd.DataFrame, query: Any) -> tuple[pd.DataFrame, dict[str, str], str, bool]:
    chosen = {name: str(query.get(name) or "") for name in FILTERS}
    rows = items
    if chosen["flag"]:
        rows = rows[rows["flags"].fillna("").str.split(";").apply(lambda flags: chosen["flag"] in flags)]
    for name in ("criterion", "type", "status"):
        if chosen[name]:
            rows = rows[rows[name].astype(str) == chosen[name]]
    sort = str(query.get("sort") or "item")
    sort = sort if sort in SORTABLE else "item"
    descending = query.get("order") == "desc"
    rows = rows.sort_values(sort, ascending=not descending, na_position="last", kind="stable")
    return rows, chosen, sort, descending


@staff_page
async def unit_page(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    unit = _unit(request)
    settings = _settings(request)
    notice, errors = None, []
    if request.method == "POST":
        form = await checked_form(request, csrf)
        if form.get("action") != "calibrate":
            raise HTTPException(400, "Unknown action.")
        run, count = await run_in_threadpool(analyst.calibrate, ctx.engine, actor, ctx.catalogue, settings, unit, ctx.clock())
        notice = f"Calibration run {run} stored: {count} item versions; assembly uses their empirical values from now on."
    stats = await run_in_threadpool(analyst.statistics, ctx.engine, actor, ctx.catalogue, settings, unit)
    rows, chosen, sort, descending = _filtered(stats.items, request.query_params)
    histogram = charts.histogram(stats.test.histogram.edges, stats.test.histogram.counts, f"Total ({stats.test.scale})") if stats.test.n else None
    choices = {name: sorted({str(v) for v in stats.items[name].dropna()}) for name in ("criterion", "type", "status")}
    choices["flag"] = sorted({f for flags in stats.items["flags"].fillna("") for f in flags.split(";") if f})
    return render_staff(request, "analysis/unit.html", actor, csrf, {
        "stats": stats, "rows": analyst.table_rows(rows), "chosen": chosen, "choices": choices, "sort": sort, "descending": descending,
        "histogram": histogram, "title": ctx.catalogue.unit(unit).bank.unit.title, "notice": notice, "errors": errors,
        "number": number, "query": request.query_params,
    })


@staff_page
async def dif_page(request: Request, actor: Actor, csrf: str) -> Response:
    """DIF between two groups of candidates: the groups to choose from, then the table."""
    ctx = context(request)
    unit = _unit(request)
    query = request.query_params
    by = str(query.get("by") or "gender")
    reference, focal = str(query.get("reference") or ""), str(query.get("focal") or "")
    report, errors, counts = None, [], {}
    try:
        counts = await run_in_threadpool(fairness.group_counts, ctx.engine, actor, ctx.catalogue, unit, by)
        if reference or focal:
            report = await run_in_threadpool(
                fairness.unit_dif, ctx.engine, actor, ctx.catalogue, _settings(request), unit, by, reference, focal
            )
    except InvalidInput as invalid:
        errors = invalid.messages
    return render_staff(request, "analysis/dif.html", actor, csrf, {
        "unit": unit, "title": ctx.catalogue.unit(unit).bank.unit.title, "groupings": fairness.GROUPINGS, "by": by,
        "reference": reference, "focal": focal, "counts": counts, "report": report,
        "rows": analyst.table_rows(report.table) if report else [], "errors": errors, "number": number, "query": query,
    }, 400 if errors else 200)


async def _dif_table(request: Request, actor: Actor, unit: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    ctx = context(request)
    query = request.query_params
    try:
        report = await run_in_threadpool(
            fairness.unit_dif, ctx.engine, actor, ctx.catalogue, _settings(request), unit, str(query.get("by") or ""),
            str(query.get("reference") or ""), str(query.get("focal") or ""),
        )
    except InvalidInput as invalid:
        raise HTTPException(400, "; ".join(invalid.messages)) from invalid
    return report.table, report.conventions


@staff_page
async def export(request: Request, actor: Actor, csrf: str) -> Response:
    """The item, option or DIF table as CSV or Excel, with the filters (or groups) of the page."""
    ctx = context(request)
    unit = _unit(request)
    table, kind = request.path_params["table"], request.path_params["kind"]
    if table not in ("items", "options", "dif") or kind not in ("csv", "xlsx"):
        raise HTTPException(404)
    if table == "dif":
        frame, conventions = await _dif_table(request, actor, unit)
    else:
        stats = await run_in_threadpool(analyst.statistics, ctx.engine, actor, ctx.catalogue, _settings(request), unit)
        frame = _filtered(stats.items, request.query_params)[0] if table == "items" else stats.options
        conventions = stats.conventions
    name = f"unit-{unit}-{table}.{kind}"
    if kind == "csv":
        body = frame.to_csv(index=False).encode()
        media = "text/csv; charset=utf-8"
    else:
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name=table)
            pd.DataFrame({"convention": list(conventions)}).to_excel(writer, index=False, sheet_name="conventions")
        body = buffer.getvalue()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@staff_page
async def item_page(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    item_id = request.path_params["item_id"]
    settings = _settings(request)
    notice, errors, correction = None, [], None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        action = str(form.get("action") or "")
        reason = str(form.get("reason") or "")
        try:
            if action in item_review.DECISIONS:
                await run_in_threadpool(item_review.decide, ctx.engine, actor, ctx.catalogue, item_id, action, reason, ctx.clock(),
                                        client_address(request))
                notice = f"Item {item_id} {item_review.DECISIONS[action]}."
            elif action == "correct_key":
                version = str(form.get("version") or "")
                if not version.isdigit():
                    raise InvalidInput(["choose the version whose key is wrong"])
                key = _key_from_form(form)
                correction = await run_in_threadpool(
                    item_review.correct_key, ctx.engine, actor, ctx.catalogue, item_id, int(version), key, reason, ctx.clock(),
                    client_address(request),
                )
                notice = (f"Key corrected: {len(correction.remarked)} sittings re-marked, {len(correction.changed)} with a "
                          f"different total, {sum(1 for r in correction.changed if r.outcome_changed)} with a different outcome.")
            else:
                raise InvalidInput([f"unknown action {action!r}"])
        except InvalidInput as invalid:
            errors = invalid.messages
    page = await run_in_threadpool(analyst.item_page, ctx.engine, actor, ctx.catalogue, settings, item_id)
    trend = None
    if page.history:
        trend = charts.trend([h.period for h in page.history], [h.p for h in page.history],
                             [0.0 if math.isnan(h.r_item_rest) else h.r_item_rest for h in page.history])
    curve = charts.characteristic_curve(page.curve, page.curve_difficulty) if page.curve else None
    return render_staff(request, "analysis/item.html", actor, csrf, {
        "page": page, "versions": analyst.table_rows(page.versions), "options": analyst.table_rows(page.options),
        "trend": trend, "curve": curve, "notice": notice, "errors": errors, "correction": correction, "number": number,
        "decisions": item_review.DECISIONS,
    }, 400 if errors else 200)


def _key_from_form(form: dict[str, Any]) -> Any:
    """The corrected key as typed: one option id, or several separated by commas."""
    raw = str(form.get("key") or "").strip()
    if not raw:
        raise InvalidInput(["give the corrected key (an option id, or several separated by commas)"])
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else parts


routes = [
    Route("/analysis", index),
    Route("/analysis/units/{unit:int}", unit_page, methods=["GET", "POST"]),
    Route("/analysis/units/{unit:int}/dif", dif_page),
    Route("/analysis/units/{unit:int}/{table:str}.{kind:str}", export),
    Route("/analysis/items/{item_id:str}", item_page, methods=["GET", "POST"]),
]
