"""Refuse JSON bodies nested too deeply, before the decoder recurses into them.

Litestar decodes a body to plain values first (`Request.json()`, untyped msgspec) and only then
converts them to the route's Struct; msgspec raises `RecursionError` for nesting near Python's
recursion limit (about 1,000 levels), which would otherwise be a 500.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request, Response

from placement.core.errors import problem

MAX_BODY_DEPTH = 64
# A JSON string, escapes included; an unterminated one runs to the end (possessive: no backtracking,
# so one pass over the body whatever it holds).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_STEP = {ord("["): 1, ord("]"): -1}


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (brackets inside strings don't count).

    For malformed JSON it may say yes where the decoder would stop sooner; never the reverse.
    """
    if body.count(b"[") + body.count(b"{") <= limit:  # it cannot nest deeper than it opens
        return False
    brackets = _STRING.sub(b"", body).translate(_AS_SQUARE, _NOT_BRACKETS)
    return any(depth > limit for depth in accumulate(map(_STEP.__getitem__, brackets)))


async def refuse_deep_bodies(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Answer 400 to a body nested deeper than MAX_BODY_DEPTH, on routes that decode one (a
    part of the `before_request` hook: it runs after the guard, before the body is decoded)."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return None
    if not nested_deeper_than(await request.body(), MAX_BODY_DEPTH):
        return None
    detail = f"The request body is nested too deeply (at most {MAX_BODY_DEPTH} levels)."
    return problem(400, detail, request)
