"""The AWS CLI's output formats (``json``, ``text``, ``table``), for the ``cfinval`` command.

Written here to print what ``aws`` prints for the same data (checked against the AWS CLI by the
tests); values arrive already converted by :func:`cli_data` (timestamps as ISO 8601 strings, as
AWS CLI v2 prints them). Imported only by the command line, never by ``import cfinval``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

__all__ = [
    "OUTPUT_FORMATS",
    "cli_data",
    "format_json",
    "format_table",
    "format_text",
    "output_format",
    "terminal_width",
]


def cli_data(value: Any) -> Any:
    """Plain JSON-able data as the CLI shows it: datetimes become ISO 8601 strings."""
    if isinstance(value, dict):
        return {key: cli_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [cli_data(item) for item in value]
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


# --- json ---------------------------------------------------------------------------------------


def format_json(data: Any, stream: TextIO) -> None:
    """Indented JSON; an empty mapping prints nothing at all (as the AWS CLI does)."""
    if isinstance(data, dict) and not data:
        return
    json.dump(data, stream, indent=4, ensure_ascii=False)
    stream.write("\n")


# --- text ---------------------------------------------------------------------------------------


def _is_scalar(value: object) -> bool:
    return not isinstance(value, (dict, list))


def format_text(data: Any, stream: TextIO) -> None:
    """Tab-separated lines: each mapping's scalars on one line (keys sorted, prefixed by the
    upper-cased key it was found under), nested values below it."""
    _text(data, stream, None, None)


def _text(value: Any, stream: TextIO, label: str | None, columns: list[str] | None) -> None:
    if isinstance(value, dict):
        _text_mapping(value, stream, label, columns)
    elif isinstance(value, list):
        _text_list(value, stream, label)
    else:
        stream.write(f"{value}\n")


def _text_mapping(
    value: dict[str, Any], stream: TextIO, label: str | None, columns: list[str] | None
) -> None:
    if columns is None:
        scalars = [str(v) for _, v in sorted(value.items()) if _is_scalar(v)]
        nested = [(k, v) for k, v in sorted(value.items()) if not _is_scalar(v)]
    else:
        scalars = [str(value.get(key, "")) for key in columns]
        nested = [(k, value[k]) for k in sorted(set(value) - set(columns))]
    if scalars:
        stream.write("\t".join(([label.upper()] if label is not None else []) + scalars) + "\n")
    for key, child in nested:
        _text(child, stream, key, None)


def _text_list(value: list[Any], stream: TextIO, label: str | None) -> None:
    if not value:
        return
    if any(isinstance(element, dict) for element in value):
        columns = sorted(
            {
                key
                for element in value
                if isinstance(element, dict)
                for key, child in element.items()
                if _is_scalar(child)
            }
        )
        for element in value:
            _text(element, stream, label, columns)
        return
    scalars = [element for element in value if _is_scalar(element)]
    if scalars:
        if label is not None:
            for element in scalars:
                stream.write(f"{label.upper()}\t{element}\n")
        else:
            stream.write("\t".join(str(element) for element in scalars) + "\n")
    for element in value:
        if not _is_scalar(element):
            _text(element, stream, label, None)


# --- table --------------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Display width: East Asian wide, full-width and ambiguous characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def terminal_width(stream: TextIO, default: int = 80) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return default


class _Section:
    def __init__(self, title: str = "", indent: int = 0) -> None:
        self.title = title
        self.indent = indent
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.widths: list[int] = []

    def _grow(self, cells: Sequence[str]) -> None:
        for index, cell in enumerate(cells):
            if index < len(self.widths):
                self.widths[index] = max(self.widths[index], _width(cell))
            else:  # only for odd --query shapes: rows of unequal length
                self.widths.append(_width(cell))

    def add_headers(self, headers: list[str]) -> None:
        self._grow(headers)
        self.headers = headers

    def add_row(self, row: Sequence[object]) -> None:
        cells = [str(cell) for cell in row]
        self.rows.append(cells)
        self._grow(cells)

    def column_widths(self, padding: int, total: int | None = None) -> list[int]:
        """Each column's width with ``padding``, scaled so that they add up to ``total``."""
        widths = [w + padding for w in self.widths]
        if total is None or not widths:
            return widths
        factor = total / float(sum(widths))
        scaled = [round(factor * w) for w in widths]
        excess = sum(scaled) - total
        while excess:
            order = range(len(scaled)) if excess > 0 else reversed(range(len(scaled)))
            for index in order:
                step = 1 if excess > 0 else -1
                scaled[index] -= step
                excess -= step
                if not excess:
                    break
        return scaled

    def needed_width(self) -> int:
        columns = sum(w + 4 for w in self.column_widths(0)) + 2 + 2 * self.indent
        return max(_width(self.title) + 2 + 2 * self.indent, columns)


def _centered(text: str, length: int, left: str = "|", right: str = "|") -> str:
    size = _width(text)
    start = length // 2 - size // 2 - 1
    used = len(left) + start + size
    return left + " " * start + text + " " * (length - len(right) - used) + right


def _left_aligned(text: str, length: int, left: str, right: str) -> str:
    size = _width(text)
    padding = 2 if length - (size + 2 + len(left) + len(right)) >= 0 else 0
    return (
        left
        + " " * padding
        + text
        + " " * (length - len(left) - padding - size - len(right))
        + right
    )


class _Table:
    """Sections of a table, nested by indentation, rendered to one width."""

    def __init__(self) -> None:
        self.sections: list[_Section] = []

    def section(self, title: str, indent: int) -> _Section:
        self.sections.append(_Section(title, indent))
        return self.sections[-1]

    def render(self, stream: TextIO, max_width: int) -> None:
        width = max(section.needed_width() for section in self.sections)
        if width > max_width:
            self._one_row_sections_to_vertical()
            width = max(section.needed_width() for section in self.sections)
        stream.write("-" * width + "\n")
        for section in self.sections:
            edge = "|" * section.indent
            for line in self._lines(section, width - 2 * section.indent):
                stream.write(f"{edge}{line}{edge}\n")

    def _one_row_sections_to_vertical(self) -> None:
        for index, section in enumerate(self.sections):
            if len(section.rows) == 1 and section.headers:
                vertical = _Section(section.title, section.indent)
                for header, cell in zip(section.headers, section.rows[0], strict=False):
                    vertical.add_row([header, cell])
                self.sections[index] = vertical

    @staticmethod
    def _rule(widths: list[int]) -> str:
        return "".join(
            ("+" + "-" * (w - 2) + "+") if i == 0 else ("-" * (w - 1) + "+")
            for i, w in enumerate(widths)
        )

    def _lines(self, section: _Section, width: int) -> list[str]:
        lines = []
        if section.title:
            lines.append(_centered(section.title, width))
            if not section.headers and not section.rows:
                lines.append("+" + "-" * (width - 2) + "+")
        if section.headers:
            widths = section.column_widths(4, width)
            lines.append(self._rule(widths))
            lines.append(
                "".join(
                    _centered(header, w, "|" if i == 0 else "", "|")
                    for i, (w, header) in enumerate(zip(widths, section.headers, strict=False))
                )
            )
        if section.rows:
            widths = section.column_widths(4, width)
            if widths:
                lines.append(self._rule(widths))
                for row in section.rows:
                    lines.append(
                        "".join(
                            _left_aligned(cell, w, "|" if i == 0 else "", "|")
                            for i, (w, cell) in enumerate(zip(widths, row, strict=False))
                        )
                    )
                lines.append(self._rule(widths))
        return lines


class _TableBuilder:
    def __init__(self) -> None:
        self.table = _Table()
        self.current = _Section()

    def build(self, title: str | None, value: Any, indent: int = 0) -> bool:
        if not value:
            return False
        if title is not None:
            self.current = self.table.section(title, indent)
        if isinstance(value, list):
            if isinstance(value[0], dict):
                self._from_list(value, indent, title)
            else:
                for element in value:
                    if _is_scalar(element):
                        self.current.add_row([element])
                    elif all(_is_scalar(cell) for cell in element):
                        self.current.add_row(element)
                    else:
                        self.build(None, element)
        if isinstance(value, dict):
            self._from_mapping(value, indent)
        return True

    @staticmethod
    def _split(value: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        scalars = sorted(key for key, child in value.items() if _is_scalar(child))
        nested = sorted(key for key, child in value.items() if not _is_scalar(child))
        return scalars, nested

    def _from_mapping(self, value: dict[str, Any], indent: int) -> None:
        scalars, nested = self._split(value)
        if len(scalars) == 1:
            self.current.add_row([scalars[0], value[scalars[0]]])
        elif scalars:
            self.current.add_headers(scalars)
            self.current.add_row([value[key] for key in scalars])
        for key in nested:
            self.build(key, value[key], indent + 1)

    def _from_list(self, value: list[Any], indent: int, title: str | None) -> None:
        scalars: set[str] = set()
        nested: set[str] = set()
        records = [element for element in value if isinstance(element, dict)]
        for element in records:
            element_scalars, element_nested = self._split(element)
            scalars.update(element_scalars)
            nested.update(element_nested)
        headers, more = sorted(scalars), sorted(nested)
        self.current.add_headers(headers)
        for index, element in enumerate(value):
            if not isinstance(element, dict):  # a mixed list (only from --query): one cell
                self.current.add_row([element])
                continue
            if index and more:
                self.current = self.table.section(title or "", indent)
                self.current.add_headers(headers)
            self.current.add_row([element.get(key, "") for key in headers])
            for key in more:
                if key in element:
                    self.build(key, element[key], indent + 1)


def format_table(title: str, data: Any, stream: TextIO, max_width: int = 80) -> None:
    """The AWS CLI's ``--output table`` (without colours): nested, titled sections."""
    builder = _TableBuilder()
    if builder.build(title, data):
        builder.table.render(stream, max_width)


#: The AWS CLI v2's output formats; cfinval prints the first three.
OUTPUT_FORMATS = ("json", "text", "table", "yaml", "yaml-stream")


def output_format(option: str | None, profile: str | None) -> str:
    """``--output``, else ``AWS_DEFAULT_OUTPUT``, else the profile's ``output``, else json."""
    import os

    from .errors import Failure, UsageError

    chosen, source = option, "--output"
    if not chosen and os.environ.get("AWS_DEFAULT_OUTPUT"):
        chosen, source = os.environ["AWS_DEFAULT_OUTPUT"], "AWS_DEFAULT_OUTPUT"
    if not chosen:
        from .._config import AwsConfig
        from .._errors import Error

        try:
            chosen = AwsConfig(profile=profile).scoped.get("output")
        except Error:  # an unknown profile: the client says so, with its exit code
            chosen = None
        source = "the profile's output setting"
    if not chosen:
        return "json"
    if chosen not in OUTPUT_FORMATS:  # the AWS CLI's words and exit code
        raise Failure(f"Unknown output type: {chosen}")
    if chosen.startswith("yaml"):
        raise UsageError(
            f"output {chosen} (from {source}) is not available: cfinval prints json, text and "
            "table, and has no YAML library among its dependencies; JSON is valid YAML, so "
            "--output json can be read by any YAML tool"
        )
    return str(chosen)
