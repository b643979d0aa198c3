"""Test without AWS: a fake CloudFront for the tenant invalidation workflow.

It serves ``ListInvalidationsForDistributionTenant``, ``CreateInvalidationForDistributionTenant``,
``GetInvalidationForDistributionTenant``, ``ListDistributionTenants`` and
``ListDistributionTenantsByCustomization``, SigV4-checked, bodies included.

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
    # ... or only one operation: the first create's 201 is lost (the invalidation exists)
    fake.add_fault(Fault.reset(), operation="CreateInvalidationForDistributionTenant", count=1)

    # tenants of distributions; created invalidations complete on a schedule of the fake's
    # clock (or after N Gets), within CloudFront's in-flight limits per distribution
    fake = FakeCloudFront(clock=my_clock, complete_after=60, complete_after_gets=None)
    fake.add_tenant("dt_2", distribution_id="E2EXAMPLE", connection_group_id="cg_1")
    fake.max_paths_in_progress, fake.max_wildcards_in_progress = 3000, 15
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
from ._tenants import DEFAULT_CONNECTION_GROUP_ID, DEFAULT_DISTRIBUTION_ID

__all__ = [
    "DEFAULT_CONNECTION_GROUP_ID",
    "DEFAULT_DISTRIBUTION_ID",
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
