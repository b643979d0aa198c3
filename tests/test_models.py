"""The public value types' dict forms: ``to_dict()`` is boto3's, ``to_json_dict()`` JSON-ready."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cfinval._core.protocol import parse_invalidation_list

from .conftest import RESPONSES, boto3_call, response_bytes

GOOD = sorted(p.name for p in RESPONSES.glob("list-*.xml"))


def utc_isoformat(value: object) -> str:
    """The AWS CLI's JSON encoder (``datetime.isoformat()``) on cfinval's ``create_time``, which
    is always UTC: boto3 keeps the wire's offset (``+02:00``), the instant is the same."""
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.timezone.utc).isoformat()


@pytest.mark.parametrize("name", GOOD)
def test_to_json_dict_is_what_the_aws_cli_makes_of_boto3_s_dict(name: str) -> None:
    body = response_bytes(name)
    ours = parse_invalidation_list(body).to_json_dict()
    theirs = json.loads(json.dumps(boto3_call(body)["InvalidationList"], default=utc_isoformat))
    assert json.loads(json.dumps(ours)) == ours  # plain JSON types only, no default= needed
    assert ours == theirs
    assert list(ours) == list(theirs)


def test_to_json_dict_of_an_item_keeps_microseconds_and_utc_offset() -> None:
    page = parse_invalidation_list(response_bytes("list-truncated.xml"))
    assert [item.to_json_dict() for item in page.items] == [
        {
            "Id": "I3AF7BDRZXBYCU",
            "CreateTime": "2026-11-20T08:15:02.123000+00:00",
            "Status": "InProgress",
        },
        {"Id": "I2J0I21PCUYOIK", "CreateTime": "2026-11-19T23:59:59+00:00", "Status": "Completed"},
    ]
