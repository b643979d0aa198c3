"""XML and timestamps: xmltodict with DOCTYPE refused; ISO 8601 parsing."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any
from xml.parsers import expat

import xmltodict


class _NoDoctypeExpat:
    """An ``expat`` stand-in for xmltodict whose parsers refuse any DOCTYPE (and so entities)."""

    @staticmethod
    def ParserCreate(encoding: str | None = None, sep: str | None = None) -> Any:
        parser = expat.ParserCreate(encoding, sep)

        def refuse(*_args: object) -> None:
            raise ValueError("DOCTYPE declarations are not accepted")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        return parser


def xml_to_dict(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ValueError("empty body")
    doc = xmltodict.parse(
        body,
        expat=_NoDoctypeExpat,
        xml_attribs=False,
        strip_whitespace=False,
        force_list=("InvalidationSummary",),
    )
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ValueError("no root element")
    return doc


def page_to_dict(body: bytes) -> dict[str, Any]:
    """What :func:`xml_to_dict` returns for ``body``, built by lean expat callbacks.

    A 100-item page has some 400 elements, and xmltodict's general-purpose handler (namespaces,
    attributes, postprocessors, streaming) costs about two thirds of the CPU of a whole call
    spent on them. This builds the same shape with only what cfinval's options use: an element
    with children is a dict (its text, if any, under ``#text``), a leaf is its text (``None`` when
    empty), a repeated name becomes a list, ``InvalidationSummary`` is always a list, attributes
    are ignored. ``tests/test_protocol.py`` checks it against xmltodict on arbitrary documents.
    """
    if not body.strip():
        raise ValueError("empty body")
    parser = _NoDoctypeExpat.ParserCreate()
    parser.buffer_text = True
    parser.ordered_attributes = True  # attributes are ignored: skip building dicts for them
    open_: list[tuple[dict[str, Any] | None, list[str]]] = []  # the enclosing elements' state
    children: dict[str, Any] | None = None  # of the element being read
    text: list[str] = []  # of the element being read

    def start(_name: str, _attributes: object) -> None:
        nonlocal children, text
        open_.append((children, text))
        children, text = None, []

    def end(name: str) -> None:
        nonlocal children, text
        data = "".join(text) if text else None
        value: Any = children
        children, text = open_.pop()
        if value is None:
            value = data
        elif data:
            value["#text"] = data
        if children is None:
            children = {}
        if name in children:
            previous = children[name]
            if isinstance(previous, list):
                previous.append(value)
            else:
                children[name] = [previous, value]
        else:
            children[name] = [value] if name == "InvalidationSummary" else value

    def characters(data: str) -> None:
        text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.Parse(body, True)
    if children is None or len(children) != 1:  # pragma: no cover  (expat requires one root)
        raise ValueError("no root element")
    return children


# Compiled (and cached by ``re``) on first use: CloudFront's own form takes the fast path
# below, so a listing never needs it, and compiling it costs ~1 ms of import time.
_TIMESTAMP = (
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def parse_timestamp(text: str) -> _dt.datetime:
    if (
        len(text) == 24
        and text[23] == "Z"
        and text[10] == "T"
        and text[4] == text[7] == "-"
        and text[13] == text[16] == ":"
        and text[19] == "."
    ):  # what CloudFront sends, 2026-11-20T08:15:02.123Z: the C parser is three times quicker
        try:
            return _dt.datetime.fromisoformat(text[:23] + "+00:00")
        except ValueError:
            pass  # not digits, not a real date: the general path decides
    match = re.fullmatch(_TIMESTAMP, text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, _z, sign_, off_h, off_m = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    value = _dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        micro,
        tzinfo=_dt.timezone.utc,
    )
    if sign_:
        offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m))
        value = value - offset if sign_ == "+" else value + offset
    return value


def _text(node: Any, name: str) -> str:
    """The text of a leaf element (``<X/>`` is ``""``)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    raise ValueError(f"{name} must be a text element")


def _required(parent: Mapping[str, Any], name: str) -> str:
    if name not in parent:
        raise ValueError(f"missing required element {name}")
    return _text(parent[name], name)


_INTEGER = re.compile(r"[+-]?\d+")


def _int(parent: Mapping[str, Any], name: str) -> int:
    text = _required(parent, name).strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{name} is not an integer: {text!r}")
    return int(text)


def _bool(parent: Mapping[str, Any], name: str) -> bool:
    text = _required(parent, name).strip()
    if text not in ("true", "false"):
        raise ValueError(f"{name} is not a boolean: {text!r}")
    return text == "true"
