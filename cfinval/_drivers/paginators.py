"""The iterators that paginate() and iter_invalidations() return (sync and async)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

from .._core.pagination import PaginationState

__all__ = ["AsyncPaginator", "Paginator"]

T = TypeVar("T")


class Paginator(Generic[T]):
    """An iterator of pages (or items) with ``resume_token`` set after a ``max_items`` cut."""

    def __init__(self, iterator: Iterator[T], state: PaginationState) -> None:
        self._iterator = iterator
        self._state = state

    @property
    def resume_token(self) -> str | None:
        return self._state.resume_token

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._iterator)

    def close(self) -> None:
        """Stop the listing early (also done when the paginator is garbage collected)."""
        close = getattr(self._iterator, "close", None)
        if close is not None:
            close()


class AsyncPaginator(Generic[T]):
    """An async iterator of pages (or items) with ``resume_token`` after a ``max_items`` cut."""

    def __init__(self, iterator: AsyncIterator[T], state: PaginationState) -> None:
        self._iterator = iterator
        self._state = state

    @property
    def resume_token(self) -> str | None:
        return self._state.resume_token

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop the listing early and release what it holds."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            await aclose()
