"""The drivers: perform the core's effects over httpx (sync and async)."""
