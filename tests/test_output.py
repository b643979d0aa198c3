"""The ``json``/``text``/``table`` formats, checked against the AWS CLI's own formatters.

awscli (test extra) is the oracle: for generated data, cfinval's output must be the AWS CLI's,
character for character; and whatever the data (``--query`` can make any shape), cfinval's
formatters must not raise.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import os
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cfinval._cli.output import cli_data, format_json, format_table, format_text

_BEFORE = os.environ.get("AWS_DATA_PATH")
awscli_text = pytest.importorskip("awscli.text")
awscli_formatter = pytest.importorskip("awscli.formatter")
if _BEFORE is None:  # importing awscli sets it; other tests should not see that
    os.environ.pop("AWS_DATA_PATH", None)

keys = st.text(alphabet=string.ascii_letters + "日本é", min_size=1, max_size=6)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(alphabet=string.ascii_letters + string.digits + " -:.+日本", max_size=12),
)


def _homogeneous_lists(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    records = st.dictionaries(keys, children, max_size=4)
    return st.one_of(
        st.lists(scalars, max_size=4),
        st.lists(records, max_size=4),
        st.lists(st.lists(scalars, max_size=3), max_size=3),
    )


documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.dictionaries(keys, children, max_size=5), _homogeneous_lists(children)
    ),
    max_leaves=25,
)
any_json = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.dictionaries(keys, children, max_size=4), st.lists(children, max_size=4)
    ),
    max_leaves=20,
)


def theirs_text(data: Any) -> str:
    stream = io.StringIO()
    awscli_text.format_text(data, stream)
    return stream.getvalue()


def ours_text(data: Any) -> str:
    stream = io.StringIO()
    format_text(data, stream)
    return stream.getvalue()


def theirs_table(title: str, data: Any, width: int) -> str:
    formatter = awscli_formatter.TableFormatter(argparse.Namespace(color="off", query=None))
    formatter.table._terminal_width = width  # what it would read from the terminal
    stream = io.StringIO()
    formatter(title, data, stream)
    return stream.getvalue()


def ours_table(title: str, data: Any, width: int) -> str:
    stream = io.StringIO()
    format_table(title, data, stream, width)
    return stream.getvalue()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(documents)
def test_text_equals_the_aws_cli_text_format(data: Any) -> None:
    try:
        expected = theirs_text(data)
    except (AttributeError, TypeError):  # shapes the AWS CLI itself cannot print
        assume(False)
    assert ours_text(data) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.dictionaries(keys, documents, min_size=1, max_size=5),
    st.sampled_from([30, 80, 200]),
)
def test_table_equals_the_aws_cli_table_format(data: dict[str, Any], width: int) -> None:
    try:
        expected = theirs_table("Title", data, width)
    except (AttributeError, TypeError, ValueError, IndexError):
        assume(False)
    assert ours_table("Title", data, width) == expected


@settings(max_examples=50, deadline=None)
@given(any_json, st.sampled_from([20, 80]))
def test_the_formatters_never_raise_whatever_the_shape(data: Any, width: int) -> None:
    ours_text(data)
    ours_table("T", data, width)
    format_json(data, io.StringIO())


def test_a_narrow_terminal_turns_one_row_sections_vertical() -> None:
    data = {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0, "Long": "x" * 40}
    wide, narrow = ours_table("Op", data, 200), ours_table("Op", data, 40)
    assert "|  IsTruncated |" not in wide
    assert "|  IsTruncated" in narrow
    assert narrow == theirs_table("Op", data, 40)


def test_json_prints_nothing_for_an_empty_mapping_but_prints_other_falsy_values() -> None:
    for value, shown in (({}, ""), ([], "[]\n"), (None, "null\n"), (0, "0\n")):
        stream = io.StringIO()
        format_json(value, stream)
        assert stream.getvalue() == shown


def test_json_keeps_non_ascii_and_indents_by_four() -> None:
    stream = io.StringIO()
    format_json({"Id": "日本"}, stream)
    assert stream.getvalue() == '{\n    "Id": "日本"\n}\n'


def test_cli_data_prints_timestamps_as_aws_cli_v2() -> None:
    utc = _dt.timezone.utc
    data = cli_data(
        {
            "a": [_dt.datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=utc)],
            "b": (_dt.datetime(2026, 1, 1, tzinfo=utc),),
            "c": {"d": 1},
        }
    )
    assert data == {
        "a": ["2026-01-01T00:00:00.123000+00:00"],
        "b": ["2026-01-01T00:00:00+00:00"],
        "c": {"d": 1},
    }
