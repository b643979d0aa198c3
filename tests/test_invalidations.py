"""Create and get one invalidation: the request bytes and signature botocore sends, the parse
boto3 makes, the errors it raises, and a retried create that never creates twice."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import boto3
import httpx
import pytest
import respx

import cfinval
from cfinval._core.call import Session, operation_flow
from cfinval._core.effects import Send, Sleep, TransportFailure, immediate, run
from cfinval._core.http import HttpResponse
from cfinval._core.invalidations import CreateInvalidation, GetInvalidation
from cfinval._core.protocol import NAMESPACE, Endpoint, sign
from cfinval._core.retry import StandardRetry
from cfinval.testing import FAKE_CREDENTIALS

from ._local_aws import Req, botocore_signature
from .conftest import boto3_answer

NOW = _dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=_dt.timezone.utc)
ENDPOINT = Endpoint.from_url("https://cloudfront.amazonaws.com")
CREDS = cfinval.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok")

INVALIDATION = (
    f'<?xml version="1.0"?>\n<Invalidation xmlns="{NAMESPACE}"><Id>I2J0I21PCUYOIK</Id>'
    "<Status>InProgress</Status><CreateTime>2026-12-04T12:00:01.250Z</CreateTime>"
    "<InvalidationBatch><Paths><Quantity>2</Quantity><Items><Path>/index.html</Path>"
    "<Path>/a b/&amp;*</Path></Items></Paths><CallerReference>deploy-42</CallerReference>"
    "</InvalidationBatch></Invalidation>"
).encode()
ONE_PATH = INVALIDATION.replace(b"<Quantity>2", b"<Quantity>1").replace(
    b"<Path>/a b/&amp;*</Path>", b""
)
NO_ITEMS = INVALIDATION.replace(b"<Quantity>2", b"<Quantity>0").replace(
    b"<Items><Path>/index.html</Path><Path>/a b/&amp;*</Path></Items>", b""
)


def botocore_request(operation: str, **params: Any) -> Any:
    """The request boto3 sends for ``operation`` (captured before it is sent)."""
    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id=CREDS.access_key_id,
        aws_secret_access_key=CREDS.secret_access_key,
        aws_session_token=CREDS.session_token,
    )
    seen: list[Any] = []

    class Captured(Exception):
        pass

    def capture(request: Any, **_: Any) -> None:
        seen.append(request)
        raise Captured

    client.meta.events.register("before-send.cloudfront.*", capture)
    with pytest.raises(Captured):
        getattr(client, operation)(**params)
    return seen[0]


PATHS = [
    ["/index.html"],
    ["/a b/&*", "/ünïcode/<x>", "#product:tv", "/*"],
    [f"/p{i}" for i in range(50)],
]


@pytest.mark.parametrize("paths", PATHS)
def test_create_sends_botocores_bytes_and_signature(paths: list[str]) -> None:
    ours = sign(ENDPOINT, CreateInvalidation.validate("dt_1", paths, "ref-1"), CREDS, NOW)
    theirs = botocore_request(
        "create_invalidation_for_distribution_tenant",
        Id="dt_1",
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": "ref-1",
        },
    )
    assert (ours.method, ours.url) == (theirs.method, theirs.url)
    assert ours.body == theirs.body
    assert ours.header("Content-Type") is None
    assert "Content-Type" not in theirs.headers
    auth = ours.header("Authorization")
    assert auth is not None
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in auth
    req = Req(
        "POST",
        ours.url.removeprefix("https://cloudfront.amazonaws.com"),
        {k.lower(): v for k, v in ours.headers},
        ours.body,
    )
    signature = auth.rsplit("Signature=", 1)[1]
    assert signature == botocore_signature(
        req, "https://cloudfront.amazonaws.com", CREDS, "us-east-1"
    )


def test_get_sends_botocores_request() -> None:
    ours = sign(ENDPOINT, GetInvalidation.validate("dt/1 ü", "I 1"), CREDS, NOW)
    theirs = botocore_request(
        "get_invalidation_for_distribution_tenant", DistributionTenantId="dt/1 ü", Id="I 1"
    )
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body or b"")


@pytest.mark.parametrize("body", [INVALIDATION, ONE_PATH, NO_ITEMS])
def test_an_invalidation_parses_as_boto3_parses_it(body: bytes) -> None:
    op = CreateInvalidation.validate("dt_1", ["/x"], "deploy-42")
    location = (
        "https://cloudfront.amazonaws.com/2020-05-31/distribution-tenant/dt_1/invalidation/I2"
    )
    response = HttpResponse(201, {"location": location, "x-amz-request-id": "rid"}, body)
    ours = op.parse(response, 1)
    theirs = boto3_answer(
        "create_invalidation_for_distribution_tenant",
        body,
        201,
        {"Location": location},
        Id="dt_1",
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "r"},
    )
    assert ours.to_dict() == theirs["Invalidation"]
    assert ours.location == theirs["Location"]
    assert ours.request_id == "rid"
    got = GetInvalidation.validate("dt_1", "I2").parse(HttpResponse(200, {}, body), 1)
    assert (
        got.to_dict()
        == boto3_answer(
            "get_invalidation_for_distribution_tenant", body, DistributionTenantId="dt_1", Id="I2"
        )["Invalidation"]
    )
    assert got.location is None


ERRORS = [
    (403, "AccessDenied", cfinval.AccessDenied),
    (404, "EntityNotFound", cfinval.EntityNotFound),
    (400, "TooManyInvalidationsInProgress", cfinval.TooManyInvalidationsInProgress),
    (400, "MissingBody", cfinval.MissingBody),
    (400, "InconsistentQuantities", cfinval.InconsistentQuantities),
    (413, "BatchTooLarge", cfinval.BatchTooLarge),
    (400, "InvalidArgument", cfinval.InvalidArgument),
    (404, "NoSuchInvalidation", cfinval.NoSuchInvalidation),
]


def error_body(code: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>no &amp; no</Message></Error><RequestId>rid-1</RequestId></ErrorResponse>"
    ).encode()


@pytest.mark.parametrize(("status", "code", "cls"), ERRORS)
def test_each_modelled_error_is_its_class_with_boto3s_code_and_text(
    status: int, code: str, cls: type[cfinval.CloudFrontError]
) -> None:
    import botocore.exceptions

    session = Session(ENDPOINT, _Static(), StandardRetry(max_attempts=1), clock=lambda: 0.0)
    op = CreateInvalidation.validate("dt_1", ["/x"], "r")
    with pytest.raises(cls) as ours:
        run(operation_flow(session, op), lambda e: HttpResponse(status, {}, error_body(code)))
    with pytest.raises(botocore.exceptions.ClientError) as theirs:
        boto3_answer(
            "create_invalidation_for_distribution_tenant",
            error_body(code),
            status,
            Id="dt_1",
            InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "r"},
        )
    assert ours.value.code == theirs.value.response["Error"]["Code"] == code
    # (botocore adds the retry count to the text when its one attempt was the last)
    assert str(ours.value) == re.sub(r" \(reached max retries: 0\)", "", str(theirs.value))
    assert ours.value.operation == "CreateInvalidationForDistributionTenant"


class _Static:
    def get(self) -> Any:
        return immediate(FAKE_CREDENTIALS)

    def invalidate(self, stale: Any) -> None:
        raise AssertionError("no refresh expected")


def test_a_create_retried_after_a_lost_response_sends_the_same_caller_reference() -> None:
    """The first attempt's 201 never arrives (the connection drops): the retry sends the very
    same body, so the service answers with the invalidation it made, not a second one."""
    session = Session(ENDPOINT, _Static(), StandardRetry(), clock=lambda: 0.0)
    op = CreateInvalidation.validate("dt_1", ["/index.html"])
    sent: list[bytes] = []

    def perform(effect: Any) -> Any:
        if isinstance(effect, Sleep):
            return None
        assert isinstance(effect, Send)
        sent.append(effect.request.body)
        if len(sent) == 1:
            return TransportFailure(httpx.ReadError("connection reset"))
        return HttpResponse(201, {}, INVALIDATION)

    result = run(operation_flow(session, op), perform)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert op.caller_reference.startswith("cfinval-")
    assert f"<CallerReference>{op.caller_reference}</CallerReference>".encode() in sent[0]
    assert result.attempts == 2


def test_each_create_gets_a_fresh_caller_reference() -> None:
    refs = {CreateInvalidation.validate("dt_1", ["/x"]).caller_reference for _ in range(100)}
    assert len(refs) == 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Paths": "/index.html"}, "not a single str"),
        ({"Paths": []}, "at least one path"),
        ({"Paths": None}, "Paths is required"),
        ({"Paths": ["index.html"]}, "must start with '/'"),
        ({"Paths": ["/a\nb"]}, "control characters"),
        ({"Paths": [b"/x"]}, "must be a str"),
        ({"Paths": ["#"]}, "empty cache tag"),
        ({"Paths": ["#a,b"]}, "but the comma"),
        ({"Paths": ["#prod*"]}, "wildcard"),
        ({"Paths": ["#" + "t" * 257]}, "at most 256"),
        ({"Paths": ["/x"], "CallerReference": ""}, "non-empty str"),
        ({"Paths": ["/x"], "CallerReference": 5}, "non-empty str"),
        ({"Paths": ["/x"], "InvalidationBatch": {}}, "not both"),
        (
            {"InvalidationBatch": {"Paths": {"Quantity": 2, "Items": ["/x"]}}},
            r"\['Quantity'\] is 2 but Items holds 1",
        ),
        ({"InvalidationBatch": {"Paths": {"Items": ["/x"]}, "Extra": 1}}, "unknown keys"),
        ({"InvalidationBatch": ["/x"]}, "must be a dict"),
    ],
)
@respx.mock(assert_all_mocked=True)
def test_bad_input_is_refused_before_anything_is_sent(kwargs: dict[str, Any], message: str) -> None:
    with (
        cfinval.Client(FAKE_CREDENTIALS) as client,
        pytest.raises(cfinval.ParamValidationError, match=message),
    ):
        client.create_invalidation_for_distribution_tenant("dt_1", **kwargs)


def test_boto3s_batch_form_sends_the_same_request_as_paths() -> None:
    batch = {"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "r"}
    a = CreateInvalidation.validate("dt_1", InvalidationBatch=batch)
    b = CreateInvalidation.validate("dt_1", ["/x"], "r")
    assert a == b
    assert a.body() == b.body()


@respx.mock
def test_sync_and_async_clients_create_and_get() -> None:
    url = "https://cloudfront.amazonaws.com/2020-05-31/distribution-tenant/dt_1/invalidation"
    created = respx.post(url).mock(
        return_value=httpx.Response(
            201, headers={"Location": url + "/I2J0I21PCUYOIK"}, content=INVALIDATION
        )
    )
    respx.get(url + "/I2J0I21PCUYOIK").mock(return_value=httpx.Response(200, content=INVALIDATION))
    with cfinval.Client(FAKE_CREDENTIALS, region="us-east-1") as client:
        inv = client.create_invalidation_for_distribution_tenant(
            "dt_1", ["/index.html"], "deploy-42"
        )
        assert (inv.id, inv.status, inv.location) == (
            "I2J0I21PCUYOIK",
            "InProgress",
            url + "/I2J0I21PCUYOIK",
        )
        got = client.get_invalidation_for_distribution_tenant("dt_1", inv.id)
        assert got == inv
        assert not got.completed
    assert b"<CallerReference>deploy-42</CallerReference>" in created.calls[0].request.content

    import anyio

    async def main() -> cfinval.Invalidation:
        async with cfinval.AsyncClient(FAKE_CREDENTIALS, region="us-east-1") as aclient:
            await aclient.create_invalidation_for_distribution_tenant("dt_1", ["/index.html"])
            return await aclient.get_invalidation_for_distribution_tenant("dt_1", inv.id)

    assert anyio.run(main) == inv


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_lost_201_on_the_wire_leaves_one_invalidation(driver: str) -> None:
    """Over loopback, the fake creates the invalidation and resets the connection instead of
    answering 201: the client's retry sends the same CallerReference and gets that very
    invalidation back; the tenant has one invalidation, not two."""
    from cfinval.testing import FakeCloudFront, Fault

    fake = FakeCloudFront()
    fake.add_tenant("dt_lost")
    fake.add_fault(Fault.reset(), operation="CreateInvalidationForDistributionTenant", count=1)
    with fake.serve() as server:
        options: dict[str, Any] = {"endpoint_url": server.endpoint_url, "region": "us-east-1"}
        if driver == "sync":
            with cfinval.Client(FAKE_CREDENTIALS, **options) as client:
                created = client.create_invalidation_for_distribution_tenant("dt_lost", ["/*"])
                listed = client.list_invalidations_for_distribution_tenant("dt_lost")
        else:
            import anyio

            async def main() -> tuple[cfinval.Invalidation, cfinval.InvalidationList]:
                async with cfinval.AsyncClient(FAKE_CREDENTIALS, **options) as client:
                    made = await client.create_invalidation_for_distribution_tenant(
                        "dt_lost", ["/*"]
                    )
                    return made, await client.list_invalidations_for_distribution_tenant("dt_lost")

            created, listed = anyio.run(main)
    assert created.attempts == 2
    assert [item.id for item in listed.items] == [created.id]
    creates = [r for r in fake.requests if r.method == "POST"]
    assert len(creates) == 2
    assert creates[0].body == creates[1].body
