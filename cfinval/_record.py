"""``Record``: the base of the small internal value types (requests, responses, effects).

attrs writes and compiles the methods of each class it builds, about half a millisecond of
import time per class, which every cold start pays. The public models stay attrs classes; the
internal values that each request creates derive from this instead: slots, and equality, hash
and repr over the slots, with nothing generated. Subclasses list their fields in ``__slots__``,
set them in ``__init__`` and never change them afterwards.
"""

from __future__ import annotations

__all__ = ["Record"]


class Record:
    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.__slots__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"
