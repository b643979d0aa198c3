"""The internal value types (``_record.Record``): equality, hashing and repr over their fields."""

from __future__ import annotations

import pytest

from cfinval._core.effects import Emit, Send, Sleep, TransportFailure
from cfinval._core.http import HttpResponse
from cfinval._core.protocol import Endpoint, ListParams


def test_equal_when_same_type_and_fields() -> None:
    assert Endpoint.from_url("https://cloudfront.amazonaws.com:443/") == Endpoint(
        "https", "cloudfront.amazonaws.com", "", "us-east-1"
    )
    assert ListParams("dt_1", None, 5) == ListParams("dt_1", max_items=5)
    assert Sleep(0.5) == Sleep(0.5)
    assert Sleep(0.5) != Sleep(0.25)


def test_never_equal_across_types() -> None:
    assert Sleep(1) != Emit(1)
    assert Emit(1) != (1,)
    assert ListParams("dt_1") != "dt_1"


def test_hash_follows_equality() -> None:
    assert {Sleep(1.0), Sleep(1.0), Sleep(2.0)} == {Sleep(1.0), Sleep(2.0)}
    assert hash(ListParams("a", "m", 3)) == hash(ListParams("a", "m", 3))


def test_repr_names_every_field() -> None:
    error = OSError("refused")
    assert repr(TransportFailure(error, "connect")) == (
        "TransportFailure(error=OSError('refused'), kind='connect', proxy=None, stage=None, "
        "url=None)"
    )
    assert repr(ListParams("dt_1", None, 5)) == "ListParams(id='dt_1', marker=None, max_items=5)"


def test_defaults() -> None:
    response = HttpResponse(200)
    assert (response.headers, response.body, response.truncated) == ({}, b"", False)
    assert response.request_id is None
    assert TransportFailure(OSError()).kind == "other"


def test_fields_are_slots() -> None:
    request = Send(None)  # type: ignore[arg-type]
    assert not hasattr(request, "__dict__")


def test_fields_of_base_classes_come_first_and_private_ones_stay_out_of_repr() -> None:
    from cfinval._core.retry import AdaptiveRetry, RetryQuota

    retry = AdaptiveRetry(max_attempts=4, random=lambda: 0.5)
    assert repr(retry).startswith("AdaptiveRetry(max_attempts=4, mode='adaptive', quota=")
    assert repr(retry).endswith("rate_limiter=None)")
    assert repr(RetryQuota(10)) == "RetryQuota(available=10, capacity=10)"  # no _lock


def test_mutable_state_is_not_hashable() -> None:
    from cfinval._core.pagination import PaginationState
    from cfinval._core.retry import StandardRetry

    for value in (PaginationState(), StandardRetry()):
        with pytest.raises(TypeError, match="unhashable"):
            hash(value)
    assert PaginationState("t", 2) == PaginationState(resume_token="t", pages=2)
