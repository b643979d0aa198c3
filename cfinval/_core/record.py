"""``Record``: the base of the small internal value types (requests, responses, effects, state).

attrs writes and compiles the methods of each class it builds, about half a millisecond of
import time per class, which every cold start pays. The public models stay attrs classes; the
internal types derive from this instead: slots, and equality, hash and repr over the fields,
with nothing generated.

A subclass lists its own fields in ``__slots__`` (those of its bases come first) and sets them
in ``__init__``. Fields whose names start with ``_`` are left out of the ``repr``. A subclass
whose fields change after ``__init__`` sets ``__hash__ = None``, as attrs does for mutable
classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Record"]


class Record:
    __slots__: ClassVar[tuple[str, ...]] = ()
    _field_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._field_names = tuple(
            name for klass in reversed(cls.__mro__) for name in vars(klass).get("__slots__", ())
        )

    def _fields(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self._field_names])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self._field_names
            if not name.startswith("_")
        )
        return f"{type(self).__name__}({shown})"
