"""The OpenAPI 3.0 description of the JSON API for centres' management information systems,
served at /api/v1/openapi.json; the tests fuzz the API against it (schemathesis)."""

from __future__ import annotations

from typing import Any

MAX_ID = 2**31 - 1  # the database's integers

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_TEXT = {"type": "string"}
_PLAIN = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"  # what domain.text lets in: no control characters


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": _json(_ref("Error"), "No token, or one unknown or revoked: send Authorization: Bearer <token>"),
}
_NOT_FOUND = {"404": _json(_ref("Error"), "Not found at this centre")}
_CONFLICT = {"409": _json(_ref("Error"), "It clashes with what is there: `errors` says what (e.g. registered already, "
                                        "booked already, the session full, a resit too soon)")}
_BODY_ERRORS = {
    "400": _json(_ref("Error"), "The body is not a JSON object, or a text in it holds a control character (the message names it)"),
    "413": _json(_ref("Error"), "The body is larger than 64 KB"),
    "422": _json(_ref("Error"), "The request is understood but wrong: `errors` says what and where"),
}


def _id_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "testengine centre API",
        "version": "1",
        "description": "For a centre's management information system: its candidates, sessions, bookings and results. "
                       "Every call needs a centre's API token (made by the centre's administrator on /staff/api-tokens) "
                       "as `Authorization: Bearer <token>`, and sees only that centre.",
    },
    "servers": [{"url": "/"}],
    "security": [{"token": []}],
    "paths": {
        "/api/v1/candidates": {
            "get": {
                "operationId": "listCandidates", "summary": "The centre's candidates",
                "responses": {"200": _json({"type": "object", "required": ["candidates"], "additionalProperties": False,
                                            "properties": {"candidates": {"type": "array", "items": _ref("Candidate")}}},
                                           "The candidates, by candidate number"), **_ERRORS},
            },
            "post": {
                "operationId": "addCandidate", "summary": "Register a candidate",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewCandidate")}}},
                "responses": {"201": _json(_ref("Candidate"), "Registered"), **_ERRORS, **_BODY_ERRORS, **_CONFLICT},
            },
        },
        "/api/v1/candidates/{candidate_id}": {
            "get": {
                "operationId": "getCandidate", "summary": "One candidate",
                "parameters": [_id_parameter("candidate_id")],
                "responses": {"200": _json(_ref("Candidate"), "The candidate"), **_ERRORS, **_NOT_FOUND},
            },
        },
        "/api/v1/sessions": {
            "get": {
                "operationId": "listSessions", "summary": "The centre's exam sessions",
                "responses": {"200": _json({"type": "object", "required": ["sessions"], "additionalProperties": False,
                                            "properties": {"sessions": {"type": "array", "items": _ref("Session")}}},
                                           "The sessions, by date and time"), **_ERRORS},
            },
        },
        "/api/v1/sessions/{session_id}/bookings": {
            "post": {
                "operationId": "bookCandidate", "summary": "Book a candidate onto a session",
                "description": "The keycode is not returned: it is printed on the session's keycode slips for the invigilator.",
                "parameters": [_id_parameter("session_id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewBooking")}}},
                "responses": {"201": _json(_ref("Booking"), "Booked"), **_ERRORS, **_NOT_FOUND, **_BODY_ERRORS, **_CONFLICT},
            },
        },
        "/api/v1/sessions/{session_id}/results": {
            "get": {
                "operationId": "sessionResults", "summary": "Each booked candidate's result in a session",
                "parameters": [_id_parameter("session_id")],
                "responses": {"200": _json({"type": "object", "required": ["results"], "additionalProperties": False,
                                            "properties": {"results": {"type": "array", "items": _ref("Result")}}},
                                           "Results, by candidate number"), **_ERRORS, **_NOT_FOUND},
            },
        },
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["message"], "properties": {
                "message": _TEXT, "errors": {"type": "array", "items": _TEXT}}},
            "Candidate": {"type": "object", "additionalProperties": False,
                          "required": ["candidate_id", "candidate_number", "name", "gender", "extra_time_percent", "arrangements"],
                          "properties": {
                              "candidate_id": _ID, "candidate_number": _TEXT, "name": _TEXT,
                              "gender": {"type": "string", "enum": ["female", "male", "other", ""]},
                              "extra_time_percent": {"type": "integer", "minimum": 0}, "arrangements": _TEXT}},
            "NewCandidate": {"type": "object", "additionalProperties": False, "required": ["candidate_number", "name"],
                             "properties": {
                                 "candidate_number": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"},
                                 "name": {"type": "string", "minLength": 1, "maxLength": 200,
                                          "pattern": f"^{_PLAIN}*[^\\s\\x00-\\x1f\\x7f]{_PLAIN}*$"},
                                 "gender": {"type": "string", "enum": ["female", "male", "other", ""]}}},
            "Session": {"type": "object", "additionalProperties": False,
                        "required": ["session_id", "unit", "unit_title", "date", "start_time", "room", "booked", "capacity", "practice"],
                        "properties": {
                            "session_id": _ID, "unit": {"type": "integer"}, "unit_title": _TEXT,
                            "date": {"type": "string", "format": "date"}, "start_time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                            "room": _TEXT, "booked": {"type": "integer", "minimum": 0}, "capacity": {"type": "integer", "minimum": 1},
                            "practice": {"type": "boolean"}}},
            "NewBooking": {"type": "object", "additionalProperties": False, "required": ["candidate_id"],
                           "properties": {"candidate_id": _ID, "seat": {"type": "string", "maxLength": 16,
                                                                                 "pattern": f"^{_PLAIN}*$"}}},
            "Booking": {"type": "object", "additionalProperties": False, "required": ["session_id", "candidate_id"],
                        "properties": {"session_id": _ID, "candidate_id": _ID}},
            "Result": {"type": "object", "additionalProperties": False,
                       "required": ["candidate_number", "name", "status", "outcome", "total", "maximum", "cut_score", "learning_outcomes",
                                    "remarked"],
                       "properties": {
                           "candidate_number": _TEXT, "name": _TEXT, "status": _TEXT,
                           "outcome": {"type": "string", "enum": ["Pass", "Not yet passed", "Absent", "Void", "No result yet"]},
                           "total": {"type": "integer"}, "maximum": {"type": "integer"}, "cut_score": {"type": "integer"},
                           "learning_outcomes": {"type": "array", "items": {
                               "type": "object", "additionalProperties": False, "required": ["learning_outcome", "score", "maximum"],
                               "properties": {"learning_outcome": {"type": "integer"}, "score": {"type": "number"},
                                              "maximum": {"type": "number"}}}},
                           "remarked": {"type": "boolean"}}},
        },
    },
}
