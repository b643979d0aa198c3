"""``--query``: full JMESPath when ``jmespath`` is installed, else a built-in subset.

jmespath (installed with the test extra) is the oracle for the subset.
"""

from __future__ import annotations

import string
import sys
from typing import Any

import jmespath
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cfinval._cli.query import QueryError, _apply, _parse, compile_query

names = st.sampled_from(["a", "b", "Items", "Id", "k_1", '"x y"'])
steps = st.one_of(
    names.map(lambda name: "." + name),
    st.integers(-3, 3).map(lambda n: f"[{n}]"),
    st.sampled_from(["[]", "[*]"]),
)
expressions = st.builds(
    lambda first, rest: first + "".join(rest), names, st.lists(steps, max_size=5)
)

keys = st.sampled_from(["a", "b", "Items", "Id", "k_1", "x y"])
data = st.recursive(
    st.one_of(st.none(), st.integers(0, 9), st.text(string.ascii_lowercase, max_size=3)),
    lambda children: st.one_of(
        st.dictionaries(keys, children, max_size=4), st.lists(children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=80, deadline=None)
@given(expressions, data)
@example("a[]", {"a": {"b": 1}})  # a projection of what is not a list
@example("a[*].b", {"a": 7})
def test_the_subset_agrees_with_jmespath(expression: str, document: Any) -> None:
    assert _apply(_parse(expression), document) == jmespath.search(expression, document)


@pytest.fixture
def without_jmespath(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jmespath", None)  # `import jmespath` now fails


@pytest.mark.usefixtures("without_jmespath")
def test_without_jmespath_the_built_in_subset_is_used() -> None:
    query = compile_query("InvalidationList.Items[].Id")
    document = {"InvalidationList": {"Items": [{"Id": "I1"}, {"Id": "I2"}, {}]}}
    assert query(document) == ["I1", "I2"]


@pytest.mark.usefixtures("without_jmespath")
@pytest.mark.parametrize(
    "expression",
    [
        "Items[?Status=='InProgress']",
        "length(Items)",
        "Items | [0]",
        "Items[0:2]",
        "{a: b}",
        "a.",
        ".a",
        "a..b",
        "a.[0]",
        "a b",
        "",
        "   ",
    ],
)
def test_without_jmespath_other_syntax_is_refused_naming_the_package(expression: str) -> None:
    with pytest.raises(QueryError, match=r"\(for full JMESPath: pip install jmespath\)$"):
        compile_query(expression)


def test_with_jmespath_the_whole_language_works() -> None:
    query = compile_query("InvalidationList.Items[?Status=='InProgress'].Id | length(@)")
    items = [{"Id": "1", "Status": "InProgress"}, {"Id": "2", "Status": "Completed"}]
    assert query({"InvalidationList": {"Items": items}}) == 1


def test_an_invalid_expression_is_a_query_error_with_jmespath_too() -> None:
    with pytest.raises(QueryError, match=r"Invalid|Unexpected|Expecting"):
        compile_query("Items[?")
