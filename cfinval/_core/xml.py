"""XML and timestamps: xmltodict with DOCTYPE refused; ISO 8601 parsing."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any
from xml.parsers import expat

import xmltodict


class _NoDoctypeExpat:
    """The ``expat`` xmltodict is given (its ``expat=`` option): parsers that refuse any DOCTYPE
    (and so entities), and hand over attributes as a dict (see :class:`_UnorderedAttributes`)."""

    @staticmethod
    def ParserCreate(encoding: str | None = None, sep: str | None = None) -> Any:
        parser = expat.ParserCreate(encoding, sep)

        def refuse(*_args: object) -> None:
            raise ValueError("DOCTYPE declarations are not accepted")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        return _UnorderedAttributes(parser)


class _UnorderedAttributes:
    """An expat parser as xmltodict sets it up, except that ``ordered_attributes`` stays off.

    xmltodict asks expat for each element's attributes as a flat list and zips it into a dict,
    which it accepts as well straight from expat. With ``xml_attribs=False`` the attributes are
    dropped anyway, and that zip was a sixth of the CPU of a whole call for a 100-item page.
    """

    __slots__ = ("_parser",)

    def __init__(self, parser: Any) -> None:
        object.__setattr__(self, "_parser", parser)

    def __setattr__(self, name: str, value: object) -> None:
        if name != "ordered_attributes":
            setattr(self._parser, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


#: Elements that are list members in the responses cfinval reads: each is a list even when the
#: response holds one (xmltodict would give a dict). No name is a list in one response and a
#: structure in another.
_FORCE_LIST = frozenset(
    {"InvalidationSummary", "Path", "DistributionTenantSummary", "DomainResult", "Location"}
)


def xml_to_dict(body: bytes) -> dict[str, Any]:
    """``body`` as xmltodict's nested dicts: text kept as sent (whitespace too, as botocore
    keeps it), attributes ignored, list members (``InvalidationSummary``, ``Path``, ...) always
    lists, no DOCTYPE.

    Success bodies and error bodies alike go through here.
    """
    if not body.strip():
        raise ValueError("empty body")
    doc = xmltodict.parse(
        body,
        expat=_NoDoctypeExpat,
        xml_attribs=False,
        strip_whitespace=False,
        force_list=_FORCE_LIST,
    )
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ValueError("no root element")
    return doc


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
