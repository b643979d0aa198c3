"""Request building and response parsing (sans I/O), checked against boto3 where it applies."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.parsers import expat
from xml.sax.saxutils import escape

import botocore.exceptions
import httpx
import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

import cfinval
from cfinval import (
    AccessDenied,
    CloudFrontError,
    Credentials,
    EntityNotFound,
    InvalidArgument,
    InvalidationList,
    ParamValidationError,
    ResponseParseError,
)
from cfinval._config import resolve_endpoint
from cfinval._core.http import MAX_BODY_BYTES, HttpResponse
from cfinval._core.protocol import (
    Endpoint,
    ListParams,
    error_from_response,
    parse_invalidation_list,
    parse_response,
    sign,
)
from cfinval._core.xml import _FORCE_LIST, parse_timestamp, xml_to_dict

from .conftest import RESPONSES, boto3_call, response_bytes

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.timezone.utc)
CREDS = Credentials("AKIDEXAMPLE", "secret")
GLOBAL = resolve_endpoint(None, None)

# --- building ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant_id", "segment"),
    [
        ("dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN", "dt_2wjDZi3hD1ivOXf6rpZJOSNE1AN"),
        ("a/b", "a%2Fb"),
        ("q?x=1", "q%3Fx%3D1"),
        ("frag#1", "frag%231"),
        ("100%", "100%25"),
        ("a&b+c", "a%26b%2Bc"),
        ("with space", "with%20space"),
        ("caf\u00e9-\u2603", "caf%C3%A9-%E2%98%83"),
        ("../etc", "..%2Fetc"),
        ("...", "..."),
        ("~-_.", "~-_."),
    ],
)
def test_id_is_exactly_one_encoded_path_segment(tenant_id: str, segment: str) -> None:
    request = sign(GLOBAL, ListParams.validate(tenant_id), CREDS, NOW)
    path = urlsplit(request.url).path
    assert path == f"/2020-05-31/distribution-tenant/{segment}/invalidation"
    assert unquote(path.split("/")[3]) == tenant_id


def test_query_is_rfc3986_encoded_marker_then_max_items() -> None:
    request = sign(GLOBAL, ListParams.validate("dt_1", "a b+c/é", 25), CREDS, NOW)
    assert urlsplit(request.url).query == "Marker=a%20b%2Bc%2F%C3%A9&MaxItems=25"


def test_no_query_when_no_marker_or_max_items() -> None:
    request = sign(GLOBAL, ListParams.validate("dt_1"), CREDS, NOW)
    assert request.url == (
        "https://cloudfront.amazonaws.com/2020-05-31/distribution-tenant/dt_1/invalidation"
    )


def test_large_max_items_is_sent_for_the_service_to_judge() -> None:
    request = sign(GLOBAL, ListParams.validate("dt_1", None, 10**6), CREDS, NOW)
    assert request.url.endswith("?MaxItems=1000000")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Id": ""}, "Id must be a distribution tenant Id"),
        ({"Id": "."}, "Id must be a distribution tenant Id"),
        ({"Id": ".."}, "Id must be a distribution tenant Id"),
        ({"Id": None}, "Id must be a str, not NoneType"),
        ({"Id": 123}, "Id must be a str, not int"),
        ({"Id": b"dt_1"}, "Id must be a str, not bytes"),
        ({"Id": "bad\ud800"}, "Id is not valid Unicode"),
        ({"Id": "dt_1", "Marker": 5}, "Marker must be a str, not int"),
        ({"Id": "dt_1", "Marker": "x\udfff"}, "Marker is not valid Unicode"),
        ({"Id": "dt_1", "MaxItems": 0}, "MaxItems must be a positive int"),
        ({"Id": "dt_1", "MaxItems": -1}, "MaxItems must be a positive int"),
        ({"Id": "dt_1", "MaxItems": True}, "MaxItems must be a positive int"),
        ({"Id": "dt_1", "MaxItems": "10"}, "MaxItems must be a positive int"),
        ({"Id": "dt_1", "MaxItems": 1.0}, "MaxItems must be a positive int"),
    ],
)
def test_invalid_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParamValidationError, match=message):
        ListParams.validate(**kwargs)


@pytest.mark.parametrize(
    ("url", "scheme", "netloc", "base"),
    [
        ("https://cloudfront.amazonaws.com", "https", "cloudfront.amazonaws.com", ""),
        ("https://cloudfront.amazonaws.com:443/", "https", "cloudfront.amazonaws.com", ""),
        ("http://127.0.0.1:8080", "http", "127.0.0.1:8080", ""),
        ("http://LOCALHOST:80/base/", "http", "localhost", "/base"),
        ("https://[::1]:9443", "https", "[::1]:9443", ""),
    ],
)
def test_endpoint_url_sets_scheme_host_and_port(
    url: str, scheme: str, netloc: str, base: str
) -> None:
    endpoint = Endpoint.from_url(url)
    assert (endpoint.scheme, endpoint.netloc, endpoint.base_path) == (scheme, netloc, base)
    request = sign(endpoint, ListParams("dt_1"), CREDS, NOW)
    assert request.url.startswith(f"{scheme}://{netloc}{base}/2020-05-31/")
    assert request.header("host") == netloc


@pytest.mark.parametrize(
    "url",
    [
        "cloudfront.amazonaws.com",
        "ftp://x",
        "http://",
        "http://u:p@host",
        "http://h/?q=1",
        "http://h:99999",
        42,
    ],
)
def test_bad_endpoint_urls_are_refused(url: object) -> None:
    with pytest.raises(ParamValidationError, match="endpoint_url"):
        resolve_endpoint(url, None)  # type: ignore[arg-type]


def test_signed_request_repr_hides_signature_and_token() -> None:
    request = sign(GLOBAL, ListParams("dt_1"), Credentials("AKID", "s3cr3t", "t0k3n"), NOW)
    shown = repr(request)
    assert "Signature=" not in shown
    assert "t0k3n" not in shown
    assert "AKID" not in shown or "Credential=" not in shown


# --- parsing: boto3 is the oracle -------------------------------------------------------------

GOOD = sorted(p.name for p in RESPONSES.glob("list-*.xml"))


@pytest.mark.parametrize("name", GOOD)
def test_to_dict_equals_boto3(name: str) -> None:
    body = response_bytes(name)
    ours = parse_invalidation_list(body).to_dict()
    theirs = boto3_call(body)["InvalidationList"]
    assert ours == theirs
    assert list(ours) == list(theirs)  # same keys in the same order, too


def test_a_listed_page_is_parsed_by_xmltodict(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[bytes] = []
    parse = xmltodict.parse

    def counting(body: bytes, *args: Any, **kwargs: Any) -> Any:
        parsed.append(body)
        return parse(body, *args, **kwargs)

    monkeypatch.setattr(xmltodict, "parse", counting)
    body = response_bytes("list-truncated.xml")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    client = cfinval.Client(
        Credentials("AKIDEXAMPLE", "secret"), http_client=httpx.Client(transport=transport)
    )
    page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert parsed == [body]
    assert page.to_dict() == boto3_call(body)["InvalidationList"]


def test_truncated_page_values() -> None:
    page = parse_invalidation_list(response_bytes("list-truncated.xml"), request_id="rid")
    assert page.marker == ""
    assert page.next_marker == "I2J0I21PCUYOIK"
    assert (page.max_items, page.is_truncated, page.quantity) == (2, True, 2)
    assert [i.id for i in page.items] == ["I3AF7BDRZXBYCU", "I2J0I21PCUYOIK"]
    assert page.items[0].create_time == dt.datetime(
        2026, 11, 20, 8, 15, 2, 123000, tzinfo=dt.timezone.utc
    )
    assert page.items[1].create_time == dt.datetime(
        2026, 11, 19, 23, 59, 59, tzinfo=dt.timezone.utc
    )
    assert page.items[0].create_time.utcoffset() == dt.timedelta(0)
    assert page.request_id == "rid"


def test_one_item_is_a_tuple_of_one() -> None:
    page = parse_invalidation_list(response_bytes("list-one-item.xml"))
    assert isinstance(page.items, tuple)
    assert len(page.items) == 1
    assert page.items[0].create_time.microsecond == 500000


@pytest.mark.parametrize("name", ["list-empty.xml", "list-empty-items-element.xml"])
def test_no_items_is_an_empty_tuple(name: str) -> None:
    page = parse_invalidation_list(response_bytes(name))
    assert page.items == ()
    assert page.marker == ""


def test_offsets_are_converted_to_utc_and_escapes_decoded() -> None:
    page = parse_invalidation_list(response_bytes("list-escapes-and-offset.xml"))
    assert page.marker == "café & <tags>"
    assert page.next_marker == ""
    assert page.items[0].id == "I&1"
    assert page.items[0].create_time == dt.datetime(2025, 6, 1, 0, 0, tzinfo=dt.timezone.utc)


BAD = sorted(p.name for p in (RESPONSES / "bad").iterdir())


@pytest.mark.parametrize("name", BAD)
def test_invalid_bodies_raise_response_parse_error(name: str) -> None:
    body = (RESPONSES / "bad" / name).read_bytes()
    with pytest.raises(ResponseParseError) as info:
        parse_invalidation_list(body, status_code=200, request_id="rid-1")
    assert info.value.status_code == 200
    assert info.value.request_id == "rid-1"
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, KeyError)


def test_doctype_is_refused_before_any_entity_is_expanded() -> None:
    body = (RESPONSES / "bad" / "entity-expansion.xml").read_bytes()
    with pytest.raises(ResponseParseError, match="DOCTYPE"):
        parse_invalidation_list(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_response_parse_error(body: bytes) -> None:
    try:
        page = parse_invalidation_list(body)
    except ResponseParseError:
        return
    assert isinstance(page, InvalidationList)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(response_bytes("list-truncated.xml").rstrip()) - 1))
def test_every_truncation_of_a_page_is_refused(cut: int) -> None:
    # Every proper prefix of the document (short of its trailing newline) is incomplete.
    body = response_bytes("list-truncated.xml")[:cut]
    with pytest.raises(ResponseParseError):
        parse_invalidation_list(body)


def test_oversized_body_is_refused() -> None:
    response = HttpResponse(200, {"x-amz-request-id": "r"}, b"<x/>", truncated=True)
    with pytest.raises(ResponseParseError, match=f"larger than {MAX_BODY_BYTES}"):
        parse_response(response)


def without_retry_note(text: str) -> str:
    """botocore notes its retry count in the text; cfinval reports it as ``attempts``."""
    return re.sub(r" \(reached max retries: \d+\)", "", text)


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "cls", "code"),
    [
        ("error-access-denied.xml", 403, AccessDenied, "AccessDenied"),
        ("error-entity-not-found.xml", 404, EntityNotFound, "EntityNotFound"),
        ("error-invalid-argument.xml", 400, InvalidArgument, "InvalidArgument"),
        ("error-throttling.xml", 400, CloudFrontError, "Throttling"),
    ],
)
def test_service_errors_match_boto3(
    name: str, status: int, cls: type[CloudFrontError], code: str
) -> None:
    body = response_bytes(name)
    error = error_from_response(HttpResponse(status, {"x-amz-request-id": "hdr"}, body))
    assert type(error) is cls
    assert (error.code, error.status_code) == (code, status)
    assert error.request_id.startswith("5b8e4a1c-")  # type: ignore[union-attr]  # body wins
    assert error.error_type == "Sender"
    with pytest.raises(botocore.exceptions.ClientError) as boto:
        boto3_call(body, status, {"x-amz-request-id": "hdr"})
    assert str(error) == without_retry_note(str(boto.value))
    assert error.code == boto.value.response["Error"]["Code"]
    assert error.message == boto.value.response["Error"]["Message"]
    assert error.request_id == boto.value.response["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (response_bytes("proxy-502.html"), 502, "Bad Gateway"),
        (b"", 503, "Service Unavailable"),
        (b"<ErrorResponse><Error/></ErrorResponse>", 500, "Internal Server Error"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><ErrorResponse/>", 400, "Bad Request"),
        (b"\xff\xfe garbage", 599, ""),
    ],
)
def test_non_xml_errors_carry_the_http_status(body: bytes, status: int, message: str) -> None:
    error = error_from_response(HttpResponse(status, {"x-amz-request-id": "from-header"}, body))
    assert type(error) is CloudFrontError
    assert (error.code, error.message, error.status_code) == (str(status), message, status)
    assert error.request_id == "from-header"


def test_html_502_matches_boto3() -> None:
    body = response_bytes("proxy-502.html")
    error = error_from_response(HttpResponse(502, {"x-amz-request-id": "h"}, body))
    with pytest.raises(botocore.exceptions.ClientError) as boto:
        boto3_call(body, 502, {"x-amz-request-id": "h"})
    assert str(error) == without_retry_note(str(boto.value))


def test_error_response_on_error_root_and_missing_request_id() -> None:
    body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>"
    error = error_from_response(HttpResponse(403, {}, body))
    assert (error.code, error.message, error.request_id) == ("SignatureDoesNotMatch", "no", None)


def test_cloudfront_errors_pickle() -> None:
    import pickle

    error = error_from_response(HttpResponse(404, {}, response_bytes("error-entity-not-found.xml")))
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own object)
    assert type(again) is EntityNotFound
    assert (again.code, again.message, again.request_id, str(again)) == (
        error.code,
        error.message,
        error.request_id,
        str(error),
    )


# --- xml_to_dict is xmltodict's parse with cfinval's options ---------------------------------

_NAMES = ["InvalidationList", "Items", "InvalidationSummary", "Id", "Marker", "x", "p:q"]
_TEXT = st.text(st.sampled_from("aZ09 \t\n&<>\"'é☃"), max_size=6)


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(_NAMES))
    attrs = "".join(f' a{i}="{escape(v)}"' for i, v in enumerate(draw(st.lists(_TEXT, max_size=2))))
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 3 else 0))):
        kind = draw(st.sampled_from(["element", "element", "text", "cdata", "comment"]))
        if kind == "element":
            parts.append(draw(_element(depth + 1)))
        elif kind == "text":
            parts.append(escape(draw(_TEXT)))
        elif kind == "cdata":
            parts.append(f"<![CDATA[{draw(_TEXT).replace(']]>', '')}]]>")
        else:
            parts.append(f"<!--{draw(_TEXT).replace('-', '')}-->")
    if not parts and draw(st.booleans()):
        return f"<{name}{attrs}/>"
    return f"<{name}{attrs}>{''.join(parts)}</{name}>"


def _stock(body: bytes) -> object:
    """xmltodict as shipped (its own expat), with the options cfinval gives it."""
    try:
        return xmltodict.parse(
            body, xml_attribs=False, strip_whitespace=False, force_list=_FORCE_LIST
        )
    except expat.ExpatError as exc:
        return (type(exc), str(exc))


def _ours(body: bytes) -> object:
    try:
        return xml_to_dict(body)
    except expat.ExpatError as exc:
        return (type(exc), str(exc))


@settings(max_examples=100, deadline=None)
@given(_element(), st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n']))
def test_xml_to_dict_builds_what_xmltodict_builds(document: str, prolog: str) -> None:
    body = (prolog + document).encode("utf-8")
    assert _ours(body) == _stock(body)


@pytest.mark.parametrize(
    "name",  # DOCTYPEs aside: cfinval refuses them (test_doctype_is_refused_...)
    sorted(p.name for p in RESPONSES.rglob("*.xml") if b"<!DOCTYPE" not in p.read_bytes()),
)
def test_xml_to_dict_agrees_with_xmltodict_on_every_fixture(name: str) -> None:
    body = next(RESPONSES.rglob(name)).read_bytes()
    if body.strip():
        assert _ours(body) == _stock(body)


def _outcome(parse: Any, text: str) -> object:
    try:
        return parse(text)
    except ValueError as exc:
        return (type(exc), str(exc))


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)),
    st.integers(0, 23),
    st.sampled_from("0123456789-:.TZW +\u0663"),
)
def test_timestamp_fast_path_agrees_with_the_general_parser(
    moment: dt.datetime, position: int, char: str
) -> None:
    # The fast path takes exactly 24 characters; a leading space sends the same text down the
    # general (regular expression) path, which strips it. Try the service's form and the same
    # with one character changed.
    sent = moment.isoformat(timespec="milliseconds") + "Z"
    assert len(sent) == 24
    assert parse_timestamp(sent) == moment.replace(
        microsecond=moment.microsecond // 1000 * 1000, tzinfo=dt.timezone.utc
    )
    changed = sent[:position] + char + sent[position + 1 :]
    fast, general = _outcome(parse_timestamp, changed), _outcome(parse_timestamp, " " + changed)
    if isinstance(general, tuple):  # both refuse it (the message quotes the text as given)
        assert isinstance(fast, tuple)
        assert fast[0] is general[0]
    else:
        assert fast == general
