"""Tenant discovery: ListDistributionTenants and ListDistributionTenantsByCustomization send
botocore's bytes and signature, parse as boto3 parses, raise boto3's errors, and paginate with
botocore's pages and resume tokens."""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

import anyio
import boto3
import botocore.exceptions
import httpx
import pytest
import respx
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cfinval
from cfinval._core.call import Session, operation_flow
from cfinval._core.effects import run
from cfinval._core.http import HttpResponse
from cfinval._core.pagination import decode_token, encode_token
from cfinval._core.protocol import NAMESPACE, Endpoint, sign
from cfinval._core.retry import StandardRetry
from cfinval._core.tenants import ListTenants, ListTenantsByCustomization
from cfinval.testing import FAKE_CREDENTIALS

from ._local_aws import Req, Stub, botocore_signature
from .conftest import boto3_answer, response_bytes
from .test_invalidations import _Static, botocore_request, error_body

NOW = _dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=_dt.timezone.utc)
ENDPOINT = Endpoint.from_url("https://cloudfront.amazonaws.com")
CREDS = cfinval.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok")
BASE = "https://cloudfront.amazonaws.com/2020-05-31"


def _signature_is_botocores(ours: Any) -> None:
    auth = ours.header("Authorization")
    assert auth is not None
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in auth
    req = Req(
        ours.method,
        ours.url.removeprefix("https://cloudfront.amazonaws.com"),
        {k.lower(): v for k, v in ours.headers},
        ours.body,
    )
    assert auth.rsplit("Signature=", 1)[1] == botocore_signature(
        req, "https://cloudfront.amazonaws.com", CREDS, "us-east-1"
    )


LIST_PARAMS: list[dict[str, Any]] = [
    {},
    {"MaxItems": 5},
    {"Marker": "dt_3next"},
    {"AssociationFilter": {}},
    {"AssociationFilter": {"DistributionId": "E1 &<>\"'ü"}, "Marker": "m", "MaxItems": 5},
    {"AssociationFilter": {"ConnectionGroupId": "cg_1", "DistributionId": "E1"}},
    {"AssociationFilter": {"DistributionId": "E1", "ConnectionGroupId": ""}, "Marker": ""},
]


@pytest.mark.parametrize("params", LIST_PARAMS, ids=str)
def test_list_tenants_sends_botocores_bytes_and_signature(params: dict[str, Any]) -> None:
    ours = sign(ENDPOINT, ListTenants.validate(**params), CREDS, NOW)
    theirs = botocore_request("list_distribution_tenants", **params)
    assert (ours.method, ours.url) == (theirs.method, theirs.url)
    assert ours.body == (theirs.body or b"")
    assert ours.header("Content-Type") is None
    assert "Content-Type" not in theirs.headers
    _signature_is_botocores(ours)


CUSTOMIZATION_PARAMS: list[dict[str, Any]] = [
    {"WebACLArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/a1b2c3"},
    {"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/ü&<", "Marker": "x", "MaxItems": 3},
    {"WebACLArn": "", "MaxItems": 1000},
]


@pytest.mark.parametrize("params", CUSTOMIZATION_PARAMS, ids=str)
def test_by_customization_sends_botocores_bytes_and_signature(params: dict[str, Any]) -> None:
    ours = sign(ENDPOINT, ListTenantsByCustomization.validate(**params), CREDS, NOW)
    theirs = botocore_request("list_distribution_tenants_by_customization", **params)
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert ours.header("Content-Type") is None
    assert "Content-Type" not in theirs.headers
    _signature_is_botocores(ours)


def test_a_listing_without_parameters_sends_no_body_at_all() -> None:
    """botocore sends ``Content-Length: 0`` and nothing else: no body, no Content-Type, the
    empty payload's hash in the signature."""
    with (
        Stub(lambda req: (200, {}, fixture("tenants-none.xml"))) as stub,
        cfinval.Client(FAKE_CREDENTIALS, endpoint_url=stub.url) as client,
    ):
        page = client.list_distribution_tenants()
    (req,) = stub.requests
    assert (req.method, req.path, req.body) == ("POST", "/2020-05-31/distribution-tenants", b"")
    assert req.headers["content-length"] == "0"
    assert "content-type" not in req.headers
    assert req.headers["authorization"].rsplit("Signature=", 1)[1] == botocore_signature(
        req, stub.url, FAKE_CREDENTIALS, "us-east-1"
    )
    assert page == cfinval.DistributionTenantPage(items=(), next_marker=None)


def fixture(name: str) -> bytes:
    return response_bytes(name)


PAGES = [
    "tenants-one-item.xml",
    "tenants-none.xml",
    "tenants-no-list-element.xml",
    "tenants-all-fields.xml",
    "tenants-unknown-elements.xml",
    "tenants-by-customization.xml",
]


def _boto3(body: bytes, operation: str) -> dict[str, Any]:
    params = {"WebACLArn": "arn:w"} if operation.endswith("customization") else {}
    answer = boto3_answer(operation, body, 200, {"x-amz-request-id": "rid-7"}, **params)
    del answer["ResponseMetadata"]
    return answer


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    "op", [ListTenants(), ListTenantsByCustomization("arn:w", None)], ids=lambda op: op.name
)
def test_a_page_parses_as_boto3_parses_it(name: str, op: Any) -> None:
    body = fixture(name)
    page = op.parse(HttpResponse(200, {"x-amz-request-id": "rid-7"}, body), 2)
    operation = re.sub(r"(?<!^)(?=[A-Z])", "_", op.name).lower()
    assert page.to_dict() == _boto3(body, operation)
    assert (page.request_id, page.attempts) == ("rid-7", 2)
    for tenant in page.items:
        assert tenant.created_time.tzinfo is not None
        assert tenant.last_modified_time.utcoffset() == _dt.timedelta(0)


@pytest.mark.parametrize("name", PAGES)
def test_a_pretty_printed_page_parses_as_boto3_parses_it(name: str) -> None:
    body = re.sub(rb">(?=<)", b">\n    ", fixture(name))
    page = ListTenants().parse(HttpResponse(200, {}, body), 1)
    assert page.to_dict() == _boto3(body, "list_distribution_tenants")
    assert len(page.items) == fixture(name).count(b"<DistributionTenantSummary>")


def test_every_field_reads_as_typed_attributes() -> None:
    page = ListTenants().parse(HttpResponse(200, {}, fixture("tenants-all-fields.xml")), 1)
    assert page.next_marker == "dt_3nextMARKER"
    first, second, third, fourth = page.items
    assert first.name == "shop & co — ünïcode"
    assert [(d.domain, d.status, d.serve_on) for d in first.domains] == [
        ("shop.example.com", "active", "any"),
        ("www.shop.example.com", "inactive", "anycast-ip-list-only"),
    ]
    assert first.connection_group_id == "cg_2CONNGROUP01"
    assert first.customizations is not None
    assert first.customizations.web_acl == cfinval.WebAclCustomization(
        "override", "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/a1b2c3"
    )
    assert first.customizations.certificate is not None
    assert first.customizations.certificate.arn.startswith("arn:aws:acm:")
    assert first.customizations.geo_restrictions == cfinval.GeoRestrictionCustomization(
        "whitelist", ("FR", "DE", "JP")
    )
    assert first.last_modified_time == _dt.datetime(2026, 12, 1, 9, tzinfo=_dt.timezone.utc)
    assert (first.enabled, first.status, first.etag) == (True, "Deployed", "E2ALLFIELDS")
    assert second.enabled is False
    assert second.customizations is not None
    assert second.customizations.web_acl == cfinval.WebAclCustomization("disable")
    assert second.customizations.certificate is None
    assert third.domains == ()
    assert third.customizations is not None
    assert third.customizations.geo_restrictions == cfinval.GeoRestrictionCustomization("none", ())
    assert (third.enabled, third.status, third.connection_group_id) == (None, None, None)
    assert fourth.customizations == cfinval.Customizations()
    assert fourth.to_dict()["Customizations"] == {}
    json_dict = first.to_json_dict()
    assert json_dict["CreatedTime"] == "2026-11-20T08:15:02.123000+00:00"
    assert page.to_json_dict()["DistributionTenantList"][0] == json_dict


BAD_BODIES = [
    (b"<ListDistributionTenantsResult><DistributionTenantList><DistributionTenantSummary>"
     b"<Id>x</Id></DistributionTenantSummary></DistributionTenantList>"
     b"</ListDistributionTenantsResult>", "missing required element"),
    (fixture("tenants-one-item.xml").replace(b"</ETag>", b"</ETag><Enabled>yes</Enabled>"),
     "Enabled is not a boolean"),
    (fixture("tenants-one-item.xml").replace(b"2026-11-20T08:15:02.123Z", b"yesterday"),
     "not an ISO 8601 timestamp"),
    (fixture("tenants-one-item.xml").replace(b"<Domain>one.example.com</Domain>", b"text"),
     "DomainResult is malformed"),
    (fixture("tenants-one-item.xml").replace(b"<Domain>one.example.com</Domain>", b""),
     "missing required element Domain"),
    (b"not xml", "syntax error"),
    (b"", "empty body"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_a_body_that_is_not_a_page_is_a_response_parse_error(body: bytes, message: str) -> None:
    session = Session(ENDPOINT, _Static(), StandardRetry(max_attempts=1), clock=lambda: 0.0)
    with pytest.raises(cfinval.ResponseParseError, match=message) as raised:
        run(operation_flow(session, ListTenants()), lambda e: HttpResponse(200, {}, body))
    assert "invalid ListDistributionTenantsResult response (HTTP 200)" in str(raised.value)


ERRORS = [
    (403, "AccessDenied", cfinval.AccessDenied),
    (404, "EntityNotFound", cfinval.EntityNotFound),
    (400, "InvalidArgument", cfinval.InvalidArgument),
]


@pytest.mark.parametrize(("status", "code", "cls"), ERRORS)
@pytest.mark.parametrize(
    ("op", "operation", "params"),
    [
        (ListTenants(), "list_distribution_tenants", {}),
        (
            ListTenantsByCustomization(None, "arn:c"),
            "list_distribution_tenants_by_customization",
            {"CertificateArn": "arn:c"},
        ),
    ],
    ids=["ListDistributionTenants", "ByCustomization"],
)
def test_each_modelled_error_is_its_class_with_boto3s_code_and_text(
    status: int,
    code: str,
    cls: type[cfinval.CloudFrontError],
    op: Any,
    operation: str,
    params: dict[str, Any],
) -> None:
    session = Session(ENDPOINT, _Static(), StandardRetry(max_attempts=1), clock=lambda: 0.0)
    with pytest.raises(cls) as ours:
        run(operation_flow(session, op), lambda e: HttpResponse(status, {}, error_body(code)))
    with pytest.raises(botocore.exceptions.ClientError) as theirs:
        boto3_answer(operation, error_body(code), status, **params)
    assert ours.value.code == theirs.value.response["Error"]["Code"] == code
    assert str(ours.value) == re.sub(r" \(reached max retries: 0\)", "", str(theirs.value))
    assert ours.value.operation == op.name
    assert ours.value.request_id == "rid-1"


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("list_distribution_tenants_by_customization", {}, "exactly one of WebACLArn"),
        (
            "list_distribution_tenants_by_customization",
            {"WebACLArn": "a", "CertificateArn": "c"},
            r"exactly one of WebACLArn and CertificateArn \(not both\)",
        ),
        ("list_distribution_tenants_by_customization", {"WebACLArn": 5}, "must be a str"),
        ("list_distribution_tenants", {"AssociationFilter": "E1"}, "must be a dict"),
        (
            "list_distribution_tenants",
            {"AssociationFilter": {"DistributionID": "E1"}},
            "unknown keys: DistributionID",
        ),
        (
            "list_distribution_tenants",
            {"AssociationFilter": {"DistributionId": None}},
            r"AssociationFilter\['DistributionId'\] must be a str",
        ),
        ("list_distribution_tenants", {"Marker": "a\nb"}, "control characters"),
        ("list_distribution_tenants", {"MaxItems": 0}, "MaxItems must be a positive int"),
        ("list_distribution_tenants", {"MaxItems": "5"}, "MaxItems must be a positive int"),
    ],
)
@respx.mock(assert_all_mocked=True)
def test_bad_input_is_refused_before_anything_is_sent(
    method: str, kwargs: dict[str, Any], message: str
) -> None:
    with (
        cfinval.Client(FAKE_CREDENTIALS) as client,
        pytest.raises(cfinval.ParamValidationError, match=message),
    ):
        getattr(client, method)(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size must be a positive int"),
        ({"max_items": -1}, "max_items must be a positive int"),
        ({"starting_token": 5}, "starting_token must be a str"),
        ({"distribution_id": 5}, "must be a str"),
        ({"starting_token": encode_token("a\x00b")}, "control characters"),
    ],
)
@respx.mock(assert_all_mocked=True)
def test_bad_paginator_arguments_are_refused_when_called(
    kwargs: dict[str, Any], message: str
) -> None:
    with cfinval.Client(FAKE_CREDENTIALS) as client:
        with pytest.raises(cfinval.ParamValidationError, match=message):
            client.iter_distribution_tenants(**kwargs)
        with pytest.raises(cfinval.ParamValidationError, match="exactly one of"):
            client.paginate_distribution_tenants_by_customization()


# --- the sync and async clients --------------------------------------------------------------


@respx.mock
def test_sync_and_async_clients_list_both_ways() -> None:
    plain = respx.post(f"{BASE}/distribution-tenants").mock(
        return_value=httpx.Response(200, content=fixture("tenants-all-fields.xml"))
    )
    by = respx.post(f"{BASE}/distribution-tenants-by-customization").mock(
        return_value=httpx.Response(200, content=fixture("tenants-by-customization.xml"))
    )
    with cfinval.Client(FAKE_CREDENTIALS, region="us-east-1") as client:
        page = client.list_distribution_tenants(
            AssociationFilter={"DistributionId": "E1MTD0000001"}, MaxItems=4
        )
        assert [t.id for t in page.items][:2] == ["dt_2allFIELDS01", "dt_2allFIELDS02"]
        waf = client.list_distribution_tenants_by_customization(WebACLArn="arn:w", Marker="m")
        assert [t.name for t in waf.items] == ["waf-user"]
    assert (
        plain.calls[0].request.content
        == (
            f'<ListDistributionTenantsRequest xmlns="{NAMESPACE}"><AssociationFilter>'
            "<DistributionId>E1MTD0000001</DistributionId></AssociationFilter><MaxItems>4</MaxItems>"
            "</ListDistributionTenantsRequest>"
        ).encode()
    )
    assert (
        by.calls[0].request.content
        == (
            f'<ListDistributionTenantsByCustomizationRequest xmlns="{NAMESPACE}"><WebACLArn>arn:w'
            "</WebACLArn><Marker>m</Marker></ListDistributionTenantsByCustomizationRequest>"
        ).encode()
    )

    async def main() -> tuple[cfinval.DistributionTenantPage, cfinval.DistributionTenantPage]:
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, region="us-east-1") as aclient:
            return (
                await aclient.list_distribution_tenants(MaxItems=4),
                await aclient.list_distribution_tenants_by_customization(CertificateArn="c"),
            )

    assert anyio.run(main) == (page, waf)


# --- pagination against botocore's paginator -------------------------------------------------

TENANTS = [f"dt_{n:03d}" for n in range(11)]


def tenant_xml(tenant_id: str) -> str:
    return (
        f"<DistributionTenantSummary><Id>{tenant_id}</Id><DistributionId>E1</DistributionId>"
        f"<Name>{tenant_id}</Name><Arn>arn:aws:cloudfront::1:distribution-tenant/{tenant_id}"
        "</Arn><Domains><DomainResult><Domain>x.example.com</Domain></DomainResult></Domains>"
        "<CreatedTime>2026-01-01T00:00:00.000Z</CreatedTime>"
        "<LastModifiedTime>2026-01-01T00:00:00.000Z</LastModifiedTime><ETag>E</ETag>"
        "</DistributionTenantSummary>"
    )


def listing(tenants: list[str], default_size: int = 4) -> Callable[[Req], tuple[int, Any, bytes]]:
    """A service listing ``tenants``; markers are opaque (``m<index>``), not Ids."""

    def answer(req: Req) -> tuple[int, dict[str, str], bytes]:
        params: dict[str, Any] = {}
        if req.body:
            params = next(iter(xmltodict.parse(req.body).values())) or {}
        marker = params.get("Marker")
        start = int(marker[1:]) if marker else 0
        size = int(params.get("MaxItems") or default_size)
        chunk = tenants[start : start + size]
        nxt = start + size
        next_marker = f"<NextMarker>m{nxt}</NextMarker>" if nxt < len(tenants) else ""
        body = (
            f'<ListDistributionTenantsResult xmlns="{NAMESPACE}">{next_marker}'
            f"<DistributionTenantList>{''.join(map(tenant_xml, chunk))}</DistributionTenantList>"
            "</ListDistributionTenantsResult>"
        )
        return 200, {}, body.encode()

    return answer


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with Stub(listing(TENANTS)) as stub:
        yield stub.url


def botocore_pages(url: str, **config: Any) -> tuple[list[list[str]], str | None]:
    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=FAKE_CREDENTIALS.access_key_id,
        aws_secret_access_key=FAKE_CREDENTIALS.secret_access_key,
    )
    iterator = client.get_paginator("list_distribution_tenants").paginate(
        AssociationFilter={"DistributionId": "E1"}, PaginationConfig=config
    )
    pages = [[t["Id"] for t in page["DistributionTenantList"]] for page in iterator]
    return pages, iterator.resume_token


def our_pages(url: str, **kw: Any) -> tuple[list[list[str]], str | None]:
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=url) as client:
        pages = client.paginate_distribution_tenants(distribution_id="E1", **kw)
        ids = [[t.id for t in page.items] for page in pages]
        return ids, pages.resume_token


CONFIGS = [
    {},
    {"page_size": 3},
    {"page_size": 3, "max_items": 5},  # cut inside a page
    {"page_size": 3, "max_items": 6},  # cut on a page boundary
    {"page_size": 3, "max_items": 11},  # exactly everything
    {"max_items": 1},
    {"max_items": 50},
]
BOTO = {"page_size": "PageSize", "max_items": "MaxItems", "starting_token": "StartingToken"}


def _boto(config: dict[str, Any]) -> dict[str, Any]:
    return {BOTO[k]: v for k, v in config.items()}


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_pages_and_tokens_equal_botocores(served: str, config: dict[str, Any]) -> None:
    ours, token = our_pages(served, **config)
    theirs, their_token = botocore_pages(served, **_boto(config))
    assert ours == theirs
    assert token == their_token  # byte for byte, or both None


@pytest.mark.parametrize(("page_size", "max_items"), [(3, 2), (4, 3), (3, 3), (2, 5), (5, 1)])
def test_tokens_chain_through_the_listing_both_ways(
    served: str, page_size: int, max_items: int
) -> None:
    """Alternate cfinval and botocore, each resuming from the other's last token: together
    they hand out the whole listing once, and each token is what the other would write."""
    seen: list[str] = []
    token: str | None = None
    turn = 0
    while True:
        config: dict[str, Any] = {"page_size": page_size, "max_items": max_items}
        if token is not None:
            config["starting_token"] = token
        ours, our_token = our_pages(served, **config)
        theirs, their_token = botocore_pages(served, **_boto(config))
        assert (ours, our_token) == (theirs, their_token)
        seen += [tid for page in ours for tid in page]
        token = our_token if turn % 2 else their_token
        turn += 1
        if token is None:
            break
    assert seen == TENANTS


@pytest.mark.parametrize(
    "config",
    [{"page_size": 3}, {"page_size": 4, "starting_token": encode_token("m3")}, {}],
    ids=str,
)
def test_paginator_requests_are_botocores_paginator_requests(config: dict[str, Any]) -> None:
    """Byte for byte: botocore's paginator writes the page size before each page's Marker."""
    with Stub(listing(TENANTS)) as stub:
        our_pages(stub.url, **config)
        ours = [req.body for req in stub.requests]
        stub.requests.clear()
        botocore_pages(stub.url, **_boto(config))
        theirs = [req.body for req in stub.requests]
    assert len(ours) > 1
    assert ours == theirs


def test_items_paginator_and_by_customization(served: str) -> None:
    with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=served) as client:
        items = client.iter_distribution_tenants(page_size=4, max_items=6)
        assert [t.id for t in items] == TENANTS[:6]
        assert decode_token(items.resume_token or "") == ("m4", 2)
        rest = client.iter_distribution_tenants_by_customization(
            certificate_arn="arn:c", starting_token=items.resume_token
        )
        assert [t.id for t in rest] == TENANTS[6:]
        assert rest.resume_token is None


def test_async_paginators(served: str) -> None:
    async def main() -> tuple[list[str], list[list[str]], str | None]:
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, endpoint_url=served) as client:
            items = [t.id async for t in client.iter_distribution_tenants(connection_group_id="c")]
            pages = client.paginate_distribution_tenants_by_customization(
                web_acl_arn="arn:w", page_size=3, max_items=5
            )
            ids = [[t.id for t in page.items] async for page in pages]
            return items, ids, pages.resume_token

    items, pages, token = anyio.run(main)
    assert items == TENANTS
    assert (pages, token) == ([TENANTS[:3], TENANTS[3:5]], encode_token("m3", 2))


def test_the_listing_ends_when_next_marker_is_absent_or_empty() -> None:
    bodies = [
        f'<R xmlns="{NAMESPACE}"><NextMarker>m1</NextMarker><DistributionTenantList>'
        f"{tenant_xml('a')}</DistributionTenantList></R>",
        f'<R xmlns="{NAMESPACE}"><NextMarker></NextMarker><DistributionTenantList>'
        f"{tenant_xml('b')}</DistributionTenantList></R>",
        "never asked for",
    ]
    with Stub(lambda req: (200, {}, bodies.pop(0).encode())) as stub:
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=stub.url) as client:
            assert [t.id for t in client.iter_distribution_tenants()] == ["a", "b"]
        assert len(stub.requests) == 2
        assert b"<Marker>m1</Marker>" in stub.requests[1].body


@pytest.mark.parametrize("markers", [["m1", "m1"], ["m1", "m2", "m1"]])
def test_a_repeated_marker_raises_pagination_error(markers: list[str]) -> None:
    answers = iter(markers)

    def answer(req: Req) -> tuple[int, dict[str, str], bytes]:
        body = (
            f'<R xmlns="{NAMESPACE}"><NextMarker>{escape(next(answers))}</NextMarker>'
            f"<DistributionTenantList>{tenant_xml('x')}</DistributionTenantList></R>"
        )
        return 200, {}, body.encode()

    with Stub(answer) as stub, cfinval.Client(FAKE_CREDENTIALS, endpoint_url=stub.url) as client:
        pages = client.paginate_distribution_tenants()
        with pytest.raises(cfinval.PaginationError, match="returned NextMarker 'm1' twice"):
            list(pages)
        assert len(stub.requests) == len(markers)


def test_a_foreign_token_names_the_operation() -> None:
    token = base64.b64encode(json.dumps({"NextToken": "x"}).encode()).decode()
    with (
        cfinval.Client(FAKE_CREDENTIALS) as client,
        pytest.raises(cfinval.ParamValidationError, match="not a ListDistributionTenants token"),
    ):
        client.paginate_distribution_tenants(starting_token=token)


# --- any page: the parse equals botocore's ---------------------------------------------------

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from(" \t\n&<>\"'"),
    max_size=12,
)
_TIMES = st.datetimes(min_value=_dt.datetime(2000, 1, 1), max_value=_dt.datetime(2099, 1, 1)).map(
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
)


def _element(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"


@st.composite
def _tenant_xml(draw: st.DrawFn) -> str:
    def maybe(strategy: st.SearchStrategy[str]) -> str | None:
        return draw(st.none() | strategy)

    domains = "".join(
        "<DomainResult>"
        + _element("Domain", draw(_TEXT))
        + _element("Status", maybe(st.sampled_from(["active", "inactive"])))
        + _element("ServeOn", maybe(st.sampled_from(["any", "anycast-ip-list-only"])))
        + "</DomainResult>"
        for _ in range(draw(st.integers(0, 3)))
    )
    customizations = ""
    if draw(st.booleans()):
        parts = []
        if draw(st.booleans()):
            action = _element("Action", draw(st.sampled_from(["override", "disable"])))
            parts.append(f"<WebAcl>{action}{_element('Arn', maybe(_TEXT))}</WebAcl>")
        if draw(st.booleans()):
            parts.append(f"<Certificate>{_element('Arn', draw(_TEXT))}</Certificate>")
        if draw(st.booleans()):
            locations = draw(st.none() | st.lists(_TEXT, max_size=3))
            geo = _element("RestrictionType", draw(st.sampled_from(["none", "whitelist"])))
            if locations is not None:
                geo += f"<Locations>{''.join(_element('Location', x) for x in locations)}"
                geo += "</Locations>"
            parts.append(f"<GeoRestrictions>{geo}</GeoRestrictions>")
        customizations = f"<Customizations>{''.join(parts)}</Customizations>"
    return (
        "<DistributionTenantSummary>"
        + "".join(_element(name, draw(_TEXT)) for name in ("Id", "DistributionId", "Name", "Arn"))
        + f"<Domains>{domains}</Domains>"
        + _element("ConnectionGroupId", maybe(_TEXT))
        + customizations
        + _element("CreatedTime", draw(_TIMES))
        + _element("LastModifiedTime", draw(_TIMES))
        + _element("ETag", draw(_TEXT))
        + _element("Enabled", maybe(st.sampled_from(["true", "false"])))
        + _element("Status", maybe(_TEXT))
        + "</DistributionTenantSummary>"
    )


@st.composite
def _page_xml(draw: st.DrawFn) -> bytes:
    tenants = draw(st.none() | st.lists(_tenant_xml(), max_size=3))
    listed = "" if tenants is None else f"<DistributionTenantList>{''.join(tenants)}"
    listed += "" if tenants is None else "</DistributionTenantList>"
    next_marker = _element("NextMarker", draw(st.none() | _TEXT))
    return f'<ListDistributionTenantsResult xmlns="{NAMESPACE}">{next_marker}{listed}'.encode() + (
        b"</ListDistributionTenantsResult>"
    )


@pytest.fixture(scope="module")
def botocore_parse() -> Callable[[bytes], dict[str, Any]]:
    import botocore.session
    from botocore.parsers import create_parser

    model = botocore.session.get_session().get_service_model("cloudfront")
    shape = model.operation_model("ListDistributionTenants").output_shape
    parser = create_parser("rest-xml")

    def parse(body: bytes) -> dict[str, Any]:
        parsed: dict[str, Any] = parser.parse(
            {"body": body, "headers": {}, "status_code": 200}, shape
        )
        parsed.pop("ResponseMetadata", None)
        return parsed

    return parse


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_page_xml())
def test_any_page_parses_as_botocore_parses_it(
    botocore_parse: Callable[[bytes], dict[str, Any]], body: bytes
) -> None:
    assert ListTenants().parse(HttpResponse(200, {}, body), 1).to_dict() == botocore_parse(body)
