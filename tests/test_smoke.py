import httpx

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront


def test_lists_a_tenant_through_the_mock_transport() -> None:
    fake = FakeCloudFront()
    fake.add_tenant("dt_1")
    made = fake.add_invalidation("dt_1", status="InProgress")
    http = httpx.Client(transport=fake.transport())
    with cfinval.Client(FAKE_CREDENTIALS, http_client=http) as client:
        page = client.list_invalidations_for_distribution_tenant(Id="dt_1")
    assert page.items == (made,)
