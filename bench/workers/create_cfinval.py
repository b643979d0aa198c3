# Cold start, cfinval: a deploy hook's first invocation creates one invalidation on a tenant.
# Credentials and region come from the environment, as on Lambda; the caller reference is
# cfinval's default (a fresh unique value).
import sys

import cfinval

client = cfinval.Client(endpoint_url=sys.argv[1])
created = client.create_invalidation_for_distribution_tenant(Id=sys.argv[2], Paths=["/index.html"])
assert created.id
