"""Staff accounts on the web: anyone's own password (/staff/password), and an administrator's
list of the centre's accounts (/staff/accounts): add one, set a new password, close, reopen."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testengine.domain.centres import Actor, Role
from testengine.services import accounts, staff
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.passwords import MIN_LENGTH
from testengine.web.context import checked_form, client_address, context
from testengine.web.cookies import STAFF
from testengine.web.staff import render_staff, staff_page


@staff_page
async def password(request: Request, actor: Actor, csrf: str) -> Response:
    """Change one's own password: the current one, then the new one twice."""
    ctx = context(request)
    errors: list[str] = []
    if request.method == "POST":
        form = await checked_form(request, csrf)
        new = str(form.get("new_password") or "")
        try:
            if new != str(form.get("confirm_password") or ""):
                raise InvalidInput(["confirm new password: the two new passwords are not the same"])
            signed = await run_in_threadpool(accounts.change_password, ctx.engine, actor, str(form.get("current_password") or ""),
                                             new, ctx.clock(), client_address(request))
        except InvalidInput as invalid:
            errors = invalid.messages
        else:
            response = render_staff(request, "staff/password.html", actor, csrf, {"errors": [], "changed": True, "min_length": MIN_LENGTH})
            ctx.cookies.write(request, response, STAFF, {"id": actor.staff_id, "v": signed.session_version, "csrf": csrf})
            return response
    return render_staff(request, "staff/password.html", actor, csrf, {"errors": errors, "changed": False, "min_length": MIN_LENGTH},
                        400 if errors else 200)


ACTIONS = ("add", "reset", "close", "reopen")


@staff_page
async def centre_accounts(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    if actor.role is not Role.CENTRE_ADMIN:
        raise Forbidden("only the centre's administrators keep its staff accounts")
    errors: list[str] = []
    notice = None
    form: dict[str, object] = {}
    if request.method == "POST":
        form = await checked_form(request, csrf)
        action, staff_id = str(form.get("action") or ""), str(form.get("staff_id") or "")
        try:
            if action not in ACTIONS:
                raise InvalidInput([f"unknown action {action!r}"])
            if action == "add":
                added = await run_in_threadpool(
                    staff.add_centre_staff, ctx.engine, actor, str(form.get("username") or ""), str(form.get("display_name") or ""),
                    str(form.get("role") or ""), str(form.get("password") or ""), ctx.clock(), client_address(request),
                )
                notice, form = f"Added {added.username}. Give them the password in person; they can change it on the Password page.", {}
            elif not staff_id.isdigit() or len(staff_id) > 9:
                raise InvalidInput(["choose the account"])
            elif action == "reset":
                await run_in_threadpool(staff.reset_password, ctx.engine, actor, int(staff_id), str(form.get("password") or ""),
                                        ctx.clock(), client_address(request))
                notice = "The new password is set and the account is signed out everywhere."
            else:
                await run_in_threadpool(staff.set_active, ctx.engine, actor, int(staff_id), action == "reopen", ctx.clock(),
                                        client_address(request))
                notice = "The account is closed: it cannot sign in." if action == "close" else "The account is open again."
        except InvalidInput as invalid:
            errors = invalid.messages
    listed = await run_in_threadpool(staff.centre_staff, ctx.engine, actor)
    kept = {k: v for k, v in form.items() if k in ("username", "display_name", "role") and form.get("action") == "add"}
    return render_staff(request, "staff/accounts.html", actor, csrf, {
        "accounts": listed, "errors": errors, "notice": notice, "form": kept, "roles": staff.CENTRE_ROLES, "min_length": MIN_LENGTH,
    }, 400 if errors else 200)


routes = [
    Route("/staff/password", password, methods=["GET", "POST"]),
    Route("/staff/accounts", centre_accounts, methods=["GET", "POST"]),
]
