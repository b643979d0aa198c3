"""``list-distribution-tenants`` and ``list-distribution-tenants-by-customization``: output,
pagination tokens and requests equal the AWS CLI's (awscli 1.46, in this process), against the
same ``cfinval.testing`` fake on 127.0.0.1."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cfinval.testing import FakeCloudFront

from .test_cli_awscli import _AWS_KNOWS_OP, aws_cli, cfinval_cli

pytestmark = pytest.mark.skipif(not _AWS_KNOWS_OP, reason="needs awscli >= 1.46")

Result = tuple[int, str, str]
WAF = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/a1b2c3"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
BASE = _dt.datetime(2026, 3, 1, 9, 30, tzinfo=_dt.timezone.utc)


def seeded() -> FakeCloudFront:
    fake = FakeCloudFront()
    for n in range(23):
        customizations: dict[str, Any] = {}
        if n % 3 == 0:
            customizations["WebAcl"] = {"Action": "override", "Arn": WAF}
        if n % 4 == 0:
            customizations["Certificate"] = {"Arn": CERT}
        if n % 5 == 0:
            customizations["GeoRestrictions"] = {
                "RestrictionType": "whitelist",
                "Locations": ["DE", "FR"],
            }
        fake.add_tenant(
            f"dt_{n:02d}EXAMPLE",
            distribution_id="E1AAAAEXAMPLE" if n % 2 else "E2BBBBEXAMPLE",
            connection_group_id="cg_1EXAMPLE" if n < 12 else "cg_2EXAMPLE",
            name=f"tenant-{n}",
            domains=[f"t{n}.example.com", f"www.t{n}.example.com"] if n % 2 else [f"t{n}.ü.test"],
            customizations=customizations or None,
            enabled=n % 7 != 0,
            created_time=BASE + _dt.timedelta(minutes=n, milliseconds=250 * (n % 2)),
        )
    return fake


FAKE = seeded()
FAKE.default_page_size = 10  # several pages with few tenants


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("awscli-tenants")
    (tmp / "config").write_text("[default]\nregion = us-east-1\ncli_timestamp_format = iso8601\n")
    with FAKE.serve() as served:
        yield served.endpoint_url, tmp


def run_aws(url: str, tmp: Path, args: list[str]) -> Result:
    return aws_cli(tmp, [*args, "--endpoint-url", url])


def run_cfinval(url: str, tmp: Path, args: list[str]) -> Result:
    return cfinval_cli(tmp, [*args, "--endpoint-url", url])


LIST = ["list-distribution-tenants"]
BY = ["list-distribution-tenants-by-customization"]
CASES: dict[str, list[str]] = {
    "all": LIST,
    "filter-shorthand": [*LIST, "--association-filter", "DistributionId=E1AAAAEXAMPLE"],
    "filter-both": [
        *LIST,
        "--association-filter",
        "DistributionId=E2BBBBEXAMPLE,ConnectionGroupId=cg_2EXAMPLE",
    ],
    "filter-reversed": [
        *LIST,
        "--association-filter",
        "ConnectionGroupId=cg_2EXAMPLE,DistributionId=E2BBBBEXAMPLE",
    ],
    "filter-json": [*LIST, "--association-filter", '{"ConnectionGroupId": "cg_1EXAMPLE"}'],
    "filter-missing-distribution": [*LIST, "--association-filter", "DistributionId=E9NONE"],
    "max-items": [*LIST, "--max-items", "7"],
    "max-items-page-boundary": [*LIST, "--max-items", "10"],
    "page-size": [*LIST, "--page-size", "4", "--max-items", "9"],
    "no-paginate": [*LIST, "--no-paginate"],
    "no-paginate-max-items": [*LIST, "--no-paginate", "--max-items", "3"],
    "text": [*LIST, "--output", "text"],
    "text-max-items": [*LIST, "--output", "text", "--max-items", "10"],
    "table": [*LIST, "--output", "table", "--max-items", "3"],
    "table-no-paginate": [*LIST, "--output", "table", "--no-paginate", "--max-items", "2"],
    "query": [*LIST, "--query", "DistributionTenantList[].Id"],
    "by-waf": [*BY, "--web-acl-arn", WAF],
    "by-cert-max-items": [*BY, "--certificate-arn", CERT, "--max-items", "2"],
    "by-cert-text": [*BY, "--certificate-arn", CERT, "--output", "text"],
    "by-waf-table": [*BY, "--web-acl-arn", WAF, "--output", "table", "--max-items", "2"],
    "by-none": [*BY, "--web-acl-arn", WAF + "x"],
}


@pytest.fixture(scope="module")
def outputs(server: tuple[str, Path]) -> dict[str, tuple[Result, Result]]:
    url, tmp = server
    return {
        name: (run_cfinval(url, tmp, args), run_aws(url, tmp, args)) for name, args in CASES.items()
    }


@pytest.mark.parametrize("case", CASES)
def test_output_equals_the_aws_clis(outputs: dict[str, tuple[Result, Result]], case: str) -> None:
    ours, theirs = outputs[case]
    if case == "filter-missing-distribution":  # the service's error, as the AWS CLI says it
        assert (ours[1], ours[2]) == (theirs[1], theirs[2])
        assert "(EntityNotFound) when calling the ListDistributionTenants operation" in ours[2]
        assert (ours[0], theirs[0]) == (254, 255)  # AWS CLI v2's code; v1's
        return
    assert theirs[0] == 0, theirs[2]
    assert ours == theirs


def test_the_compared_listings_are_not_trivial(outputs: dict[str, tuple[Result, Result]]) -> None:
    everything = json.loads(outputs["all"][0][1])["DistributionTenantList"]
    assert len(everything) == 23
    assert {"Customizations", "Domains", "ConnectionGroupId"} <= set(everything[0])
    cut = json.loads(outputs["max-items"][0][1])
    assert len(cut["DistributionTenantList"]) == 7
    assert "NextToken" in cut
    assert "NextMarker" in json.loads(outputs["no-paginate"][0][1])
    assert len(json.loads(outputs["filter-both"][0][1])["DistributionTenantList"]) > 0


def test_each_tool_resumes_from_the_other_tools_token(server: tuple[str, Path]) -> None:
    url, tmp = server
    ours = json.loads(run_cfinval(url, tmp, [*LIST, "--max-items", "7"])[1])["NextToken"]
    theirs = json.loads(run_aws(url, tmp, [*LIST, "--max-items", "7"])[1])["NextToken"]
    rest = [*LIST, "--starting-token"]
    assert run_cfinval(url, tmp, [*rest, theirs]) == run_aws(url, tmp, [*rest, ours])
    tail = json.loads(run_cfinval(url, tmp, [*rest, theirs])[1])["DistributionTenantList"]
    everything = json.loads(run_cfinval(url, tmp, LIST)[1])["DistributionTenantList"]
    assert tail == everything[7:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*LIST, "--association-filter", "Distribution=E1"], "unknown keys: Distribution"),
        ([*LIST, "--association-filter", "{bad"], "Invalid JSON"),
        ([*LIST, "--no-paginate", "--page-size", "3"], "Cannot specify --no-paginate"),
        ([*BY], "exactly one of WebACLArn and CertificateArn"),
        ([*BY, "--web-acl-arn", WAF, "--certificate-arn", CERT], "not both"),
    ],
)
def test_bad_arguments_exit_252_with_one_line(
    server: tuple[str, Path], args: list[str], message: str
) -> None:
    url, tmp = server
    code, out, err = run_cfinval(url, tmp, args)
    assert (code, out) == (252, "")
    assert message in err
    assert err.count("\n") == 2


@pytest.mark.parametrize(
    "args",
    [
        [
            *LIST,
            "--association-filter",
            "ConnectionGroupId=cg_2EXAMPLE,DistributionId=E2BBBBEXAMPLE",
        ],
        [*LIST, "--association-filter", "{}", "--page-size", "4"],
        [*LIST, "--association-filter", '{"ConnectionGroupId": "cg_1EXAMPLE"}', "--page-size", "2"],
    ],
    ids=["reversed", "empty", "paged"],
)
def test_paginated_requests_are_the_aws_clis_bytes(
    server: tuple[str, Path], args: list[str]
) -> None:
    """Every page's request body, as the AWS CLI sends it: the filter's keys in the order given
    and an empty filter as an empty element, not rebuilt."""
    url, tmp = server
    bodies = []
    for run in (run_cfinval, run_aws):
        before = len(FAKE.requests)
        code, _out, err = run(url, tmp, args)
        assert code == 0, err
        bodies.append([r.body for r in list(FAKE.requests)[before:]])
    assert bodies[0] == bodies[1]
    assert bodies[0]
