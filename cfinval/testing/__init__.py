"""Test without AWS: a fake CloudFront for ``ListInvalidationsForDistributionTenant``.

::

    from cfinval.testing import FakeCloudFront, FAKE_CREDENTIALS
    import cfinval, httpx

    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    fake.add_invalidation("dt_1", status="InProgress")

    # in process, no network:
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))

    # or over real HTTP on 127.0.0.1 (HTTPS with ssl_certfile=, ssl_keyfile=):
    with fake.serve() as server:
        client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url)

    # make it misbehave: every 3rd request throttled, the 2nd reset
    fake.add_fault(Fault.throttling(), every=3)
    fake.add_fault(Fault.reset(), start=2, count=1)
"""

from ._fake import (
    FAKE_CREDENTIALS,
    FakeCloudFront,
    RecordedRequest,
    SignatureVerifier,
    verify_sigv4,
)
from ._faults import FAULT_KINDS, FakeReply, Fault, FaultRule
from ._seed import SeedError, load_seed
from ._server import FakeServer

__all__ = [
    "FAKE_CREDENTIALS",
    "FAULT_KINDS",
    "FakeCloudFront",
    "FakeReply",
    "FakeServer",
    "Fault",
    "FaultRule",
    "RecordedRequest",
    "SeedError",
    "SignatureVerifier",
    "load_seed",
    "verify_sigv4",
]
