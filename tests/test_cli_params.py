"""The AWS CLI's shorthand syntax, parsed as awscli 1.46 parses it (its parser is the oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinval._cli.errors import UsageError
from cfinval._cli.params import ShorthandError, load_structure, parse_shorthand

shorthand = pytest.importorskip("awscli.shorthand")


def awscli(text: str) -> tuple[str, Any]:
    try:
        return "ok", shorthand.ShorthandParser().parse(text)
    except shorthand.ShorthandParseError:
        return "error", None


def ours(text: str) -> tuple[str, Any]:
    try:
        return "ok", parse_shorthand(text)
    except ShorthandError:
        return "error", None


CASES = [
    "a=b",
    "a=b,c",
    "a=b,c=d",
    "Paths={Quantity=2,Items=[/a,/b]},CallerReference=ref",
    "a=[1, 2 ,3 ]",
    'a=\'x,y\',b="q\\"z"',
    "a='it\\'s',b='back\\\\slash'",
    "a=b\\,c",
    "a= b ,c = d",
    "a={b=[{c=d}]}",
    "a=",
    "=b",
    "a=b,,c",
    "a",
    "a=b c,d e",
    "a=x=y",
    "a=[x=y]",
    "a={b=c=d}",
    "a=b,c,=d",
    "a={}",
    "a=[]",
    "a='unterminated",
    "a=b,'c',d=e",
    "a=b , c , d",
    "a=[b,]",
    "a={b=c,}",
    "a=b,a=c",
    "a=é,ü",
    "a=[b",
    "a={b",
    "a=b\n,c=d",
    "DistributionId=EDFDVBD6EXAMPLE,ConnectionGroupId=cg_1",
    "a@=b",
    "a @ = b,c",
    "a={b@=c}",
    "a@b",
]


@pytest.mark.parametrize("text", CASES)
def test_parses_as_the_aws_cli_parses(text: str) -> None:
    assert ours(text) == awscli(text)


@given(st.text(alphabet="ab=,[]{}'\"\\ /é\n#:@", max_size=24))
def test_any_input_parses_or_fails_as_the_aws_cli(text: str) -> None:
    assert ours(text) == awscli(text)


def test_a_value_that_is_not_shorthand_is_one_usage_error() -> None:
    with pytest.raises(UsageError, match="Error parsing parameter '--x': Expected: '='") as caught:
        load_structure("--x", "a=b,,c", {})
    assert "\n" not in str(caught.value)
    assert caught.value.code == 252


def test_a_value_after_at_equals_is_read_from_its_file(tmp_path: Any) -> None:
    (tmp_path / "ref.txt").write_text("deploy-77")
    text = f"CallerReference@=file://{tmp_path / 'ref.txt'},Paths={{Items@=[file://{tmp_path}/ref.txt]}}"
    assert ours(text) == awscli(text)
    assert parse_shorthand(text) == {
        "CallerReference": "deploy-77",
        "Paths": {"Items": ["deploy-77"]},
    }
    with pytest.raises(ShorthandError, match="Unable to load paramfile file:///nonexistent/x"):
        parse_shorthand("a@=file:///nonexistent/x")  # awscli: ResourceLoadingError, same text
