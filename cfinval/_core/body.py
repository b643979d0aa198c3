"""Reading a response body within a byte budget, sans I/O (both drivers feed it raw chunks).

We ask for ``Accept-Encoding: identity``, but a proxy may compress anyway. The drivers read
the *raw* bytes and this reader inflates ``gzip``/``deflate`` itself, never producing more
than the cap plus one byte however small the compressed input: a gzip bomb costs at most
``limit`` bytes of memory, not what it would inflate to.
"""

from __future__ import annotations

import zlib

__all__ = ["BodyReader"]


class BodyReader:
    """Accumulates a body; ``feed`` returns ``False`` once more than ``limit`` bytes arrived."""

    __slots__ = ("_decoder", "_parts", "_size", "error", "limit", "truncated")

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.truncated = False
        #: Why the body could not be decoded (an unknown encoding, corrupt compressed data).
        self.error: str | None = None
        self._parts: list[bytes] = []
        self._size = 0
        self._decoder: zlib._Decompress | None = None
        encoding = (content_encoding or "").strip().lower()
        if encoding in ("", "identity"):
            pass
        elif encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
        else:
            self.error = f"unsupported Content-Encoding {content_encoding!r}"

    def feed(self, chunk: bytes) -> bool:
        """Take one raw chunk; ``False`` means stop reading (over the cap or undecodable)."""
        if self.error is not None:
            return False
        decoder = self._decoder
        if decoder is None:
            return self._add(chunk)
        data = chunk
        try:
            while data:
                out = decoder.decompress(data, self.limit + 1 - self._size)
                if not self._add(out):
                    return False
                data = decoder.unconsumed_tail
        except zlib.error as exc:
            self.error = f"corrupt compressed body: {exc}"
            return False
        return True

    def _add(self, data: bytes) -> bool:
        if data:
            self._size += len(data)
            self._parts.append(data)
        if self._size > self.limit:
            self.truncated = True
            return False
        return True

    def body(self) -> bytes:
        """Everything read so far (at most ``limit + 1`` bytes once decoded)."""
        decoder = self._decoder
        if decoder is not None and self.error is None and not self.truncated:
            self._add(decoder.flush(self.limit + 1 - self._size))
            if not decoder.eof and not self.truncated:
                self.error = "compressed body ends before its end marker"
        return b"".join(self._parts)
