"""``--query`` for the ``cfinval`` command.

When the ``jmespath`` package is installed (it comes with boto3 and the AWS CLI), ``--query``
is full JMESPath, exactly as in the AWS CLI. cfinval does not depend on it; without it, a small
built-in subset is understood:

* field paths: ``InvalidationList.Items``, ``NextToken``, ``"Quoted key"``
* indexes: ``Items[0]``, ``Items[-1]``
* projections: ``Items[*].Id`` and, flattening one level, ``Items[].Id`` (``null`` results are
  dropped, the rest of the path applies to each element)

Anything else is refused, naming the package to install (``pip install jmespath``), instead
of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["SUBSET_HINT", "QueryError", "compile_query"]


#: Said with every expression the built-in subset refuses.
SUBSET_HINT = (
    "without the jmespath package only field paths, [N], [*] and [] are understood "
    "(for full JMESPath: pip install jmespath)"
)


class QueryError(ValueError):
    """The expression is not valid (or not in the built-in subset)."""


_TOKEN = re.compile(
    r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<quoted>"(?:[^"\\]|\\.)*")'
    r"|(?P<index>\[\s*-?\d+\s*\])|(?P<flatten>\[\s*\])|(?P<star>\[\s*\*\s*\])|(?P<dot>\.))"
)

# A step is ("field", name) | ("index", n) | ("flatten", None) | ("star", None).
_Step = tuple[str, Any]


def _parse(expression: str) -> list[_Step]:
    steps: list[_Step] = []
    position = 0
    expect_name = True  # at the start and after a dot, a field name must follow
    text = expression.rstrip()
    if not text.strip():
        raise QueryError("empty expression")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QueryError(f"unsupported syntax at {text[position:]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind in ("name", "quoted"):
            if not expect_name:
                raise QueryError(f"unexpected field name at {match.group().strip()!r}")
            raw = match.group(kind)
            steps.append(("field", json.loads(raw) if kind == "quoted" else raw))
            expect_name = False
        elif kind == "dot":
            if expect_name:
                raise QueryError("a '.' must follow a field or a bracket")
            expect_name = True
        else:
            if expect_name and steps:
                raise QueryError("a bracket cannot follow '.'")
            if kind == "index":
                steps.append(("index", int(match.group(kind).strip("[] \t"))))
            else:
                steps.append((kind, None))
            expect_name = False
    if expect_name:
        raise QueryError("the expression ends with '.'")
    return steps


def _apply(steps: list[_Step], value: Any) -> Any:
    position = 0
    while position < len(steps):
        kind, arg = steps[position]
        if kind in ("flatten", "star"):
            if not isinstance(value, list):
                return None
            if kind == "flatten":
                flat: list[Any] = []
                for element in value:
                    flat.extend(element if isinstance(element, list) else [element])
                value = flat
            # The projection carries the following steps to each element, up to the next
            # flatten, which applies to the projected list as a whole.
            end = next(
                (i for i in range(position + 1, len(steps)) if steps[i][0] == "flatten"),
                len(steps),
            )
            rest = steps[position + 1 : end]
            projected = (_apply(rest, element) for element in value)
            value = [element for element in projected if element is not None]
            position = end
            continue
        if kind == "field":
            value = value.get(arg) if isinstance(value, dict) else None
        elif isinstance(value, list) and -len(value) <= arg < len(value):
            value = value[arg]
        else:
            value = None
        if value is None:
            return None
        position += 1
    return value


def compile_query(expression: str) -> Callable[[Any], Any]:
    """A function applying ``expression`` to data; raises :class:`QueryError` if invalid."""
    try:
        import jmespath  # type: ignore[import-untyped, unused-ignore]
        from jmespath.exceptions import JMESPathError  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        try:
            steps = _parse(expression)
        except QueryError as exc:
            raise QueryError(f"{exc}; {SUBSET_HINT}") from None
        return lambda data: _apply(steps, data)
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as exc:
        raise QueryError(str(exc).replace("\n", " ")) from None

    def search(data: Any) -> Any:
        try:
            return compiled.search(data)
        except JMESPathError as exc:  # a type error at run time: length(null), ...
            from .errors import Failure

            raise Failure(str(exc)) from None  # the AWS CLI: the message, exit 255

    return search
