"""Type-checked (not run) by tests/test_public_types.py: what the public signatures accept.

A line ending in ``# E`` must be a mypy error; every other line must pass ``mypy --strict``.
"""

from __future__ import annotations

import cfinval
from cfinval.testing import FakeCloudFront

creds = cfinval.Credentials("AKIDEXAMPLE", "secret")


class OwnProvider:  # only load(): no base class, no ``method``
    def load(self) -> cfinval.Credentials | None:
        return creds


def own_callable() -> cfinval.Credentials:
    return creds


cfinval.Client(credentials=creds)
cfinval.Client(credentials=OwnProvider())
cfinval.Client(credentials=own_callable)
cfinval.Client(credentials=cfinval.default_chain("audit"))
cfinval.Client(credentials=cfinval.EnvProvider())
cfinval.AsyncClient(credentials=None)
cfinval.AsyncClient(credentials=lambda: None)
FakeCloudFront(credentials=creds)
FakeCloudFront(credentials=[creds, creds])


def pick_source(use_env: bool) -> cfinval.CredentialSource:  # the type of ``credentials=``
    return cfinval.EnvProvider() if use_env else own_callable


cfinval.Client(credentials=pick_source(True))

done: cfinval.Invalidation = cfinval.Client().wait_invalidation_for_distribution_tenant_completed(
    "dt_1", "I1", WaiterConfig={"Delay": 5, "MaxAttempts": 10}
)
waiter = cfinval.Client().wait_invalidation_for_distribution_tenant_completed
waiter("dt_1", "I1", WaiterConfig=20)  # E

cfinval.Client(credentials=42)  # E
cfinval.AsyncClient(credentials="AKIDEXAMPLE:secret")  # E
FakeCloudFront(credentials=42)  # E
wrong: cfinval.CredentialSource = "AKIDEXAMPLE"  # E

reveal_type(cfinval.default_chain().load())  # noqa: F821
