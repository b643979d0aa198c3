"""Test without AWS: a fake CloudFront for ``ListInvalidationsForDistributionTenant``.

::

    from cfinval.testing import FakeCloudFront, FAKE_CREDENTIALS
    import cfinval, httpx

    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    fake.add_invalidation("dt_1", status="InProgress")

    # in process, no network:
    client = cfinval.Client(FAKE_CREDENTIALS, http_client=httpx.Client(transport=fake.transport()))

    # or over real HTTP on 127.0.0.1:
    with fake.serve() as server:
        client = cfinval.Client(FAKE_CREDENTIALS, endpoint_url=server.endpoint_url)
"""

from ._fake import (
    FAKE_CREDENTIALS,
    FakeCloudFront,
    RecordedRequest,
    SignatureVerifier,
    verify_sigv4,
)
from ._seed import SeedError, load_seed
from ._server import FakeServer

__all__ = [
    "FAKE_CREDENTIALS",
    "FakeCloudFront",
    "FakeServer",
    "RecordedRequest",
    "SeedError",
    "SignatureVerifier",
    "load_seed",
    "verify_sigv4",
]
