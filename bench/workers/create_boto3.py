# Cold start, boto3: a deploy hook's first invocation creates one invalidation on a tenant.
# Credentials and region come from the environment, as on Lambda.
import sys
import uuid

import boto3

client = boto3.client("cloudfront", endpoint_url=sys.argv[1])
created = client.create_invalidation_for_distribution_tenant(
    Id=sys.argv[2],
    InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/index.html"]},
        "CallerReference": uuid.uuid4().hex,
    },
)
assert created["Invalidation"]["Id"]
