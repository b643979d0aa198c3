# Cold start, cfinval: what a Lambda handler module does on its first invocation.
# Credentials and region come from the environment, as on Lambda.
import sys

import cfinval

client = cfinval.Client(endpoint_url=sys.argv[1])
page = client.list_invalidations_for_distribution_tenant(Id=sys.argv[2], MaxItems=100)
assert len(page.items) == 100
