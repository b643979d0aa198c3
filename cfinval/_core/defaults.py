"""Defaults that the clients, the CLI and the core share (written once, here)."""

#: ``wait_until_completed``: botocore's InvalidationForDistributionTenantCompleted waiter cadence
#: (a poll every 20 s, 30 polls).
DEFAULT_POLL = 20.0
DEFAULT_TIMEOUT = 600.0
#: ``list_many``: tenants listed at once.
DEFAULT_CONCURRENCY = 8
#: ``invalidate_tenants``: the whole run's deadline (seconds). Under the in-flight limits (15
#: wildcard paths in progress per distribution) a run over many tenants takes many rounds.
DEFAULT_DEPLOY_TIMEOUT = 3600.0
