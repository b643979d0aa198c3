# Cold start, the Smithy-based AWS SDK for Python (aws_sdk_cloudfront, developer preview, on
# asyncio and aiohttp): what a Lambda handler module does on its first invocation. Credentials
# come from the environment; the test CA reaches aiohttp's default TLS context through
# SSL_CERT_FILE (the runner sets it). The client class is looked up by name, since the preview
# has renamed it between releases (CloudFrontClient, AsyncCloudFrontClient, ...).
import asyncio
import os
import sys

import aws_sdk_cloudfront.client as clients
from aws_sdk_cloudfront.config import Config
from aws_sdk_cloudfront.models import ListInvalidationsForDistributionTenantInput
from smithy_aws_core.identity import EnvironmentCredentialsResolver

Client = next(
    getattr(clients, name)
    for name in sorted(dir(clients))
    if name.endswith("CloudFrontClient") or name.endswith("CloudfrontClient")
)


async def main() -> None:
    config = Config(
        endpoint_uri=sys.argv[1],
        region=os.environ["AWS_REGION"],
        aws_credentials_identity_resolver=EnvironmentCredentialsResolver(),
    )
    client = Client(config=config)
    out = await client.list_invalidations_for_distribution_tenant(
        ListInvalidationsForDistributionTenantInput(id=sys.argv[2], max_items=100)
    )
    assert len(out.invalidation_list.items) == 100


asyncio.run(main())
