"""cfinval._core.body: reading bodies within the cap, decoding what a proxy compressed anyway."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import pytest

from cfinval._core.body import BodyReader


def _feed_all(reader: BodyReader, data: bytes, chunk: int = 1000) -> bool:
    return all(reader.feed(data[at : at + chunk]) for at in range(0, len(data), chunk))


def test_identity_body_is_kept_whole_under_the_cap() -> None:
    reader = BodyReader(None, limit=100)
    assert _feed_all(reader, b"x" * 100, chunk=7)
    assert reader.body() == b"x" * 100
    assert not reader.truncated
    assert reader.error is None


def test_identity_body_over_the_cap_stops_reading() -> None:
    reader = BodyReader("identity", limit=100)
    assert not _feed_all(reader, b"x" * 1000, chunk=60)
    assert reader.truncated
    assert len(reader.body()) == 120  # stopped at the chunk that crossed the cap


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", gzip.compress),
        (" GZIP ", gzip.compress),
    ],
)
def test_compressed_body_is_decoded(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    payload = b"<InvalidationList>" + b"<x/>" * 5000 + b"</InvalidationList>"
    reader = BodyReader(encoding, limit=1 << 20)
    assert _feed_all(reader, compress(payload), chunk=97)
    assert reader.body() == payload
    assert reader.error is None


def test_gzip_bomb_never_inflates_past_the_cap() -> None:
    bomb = gzip.compress(bytes(50 * 1024 * 1024), compresslevel=6)
    assert len(bomb) < 100 * 1024
    reader = BodyReader("gzip", limit=1024 * 1024)
    stopped_early = not reader.feed(bomb)  # one chunk holding the whole bomb
    body = reader.body()
    assert stopped_early
    assert reader.truncated
    assert len(body) == 1024 * 1024 + 1  # never more than the cap plus one byte


def test_corrupt_and_truncated_compressed_bodies_are_errors() -> None:
    corrupt = BodyReader("gzip", limit=1000)
    assert not corrupt.feed(b"\x1f\x8b\x08\x00garbage-that-is-not-deflate")
    assert corrupt.error is not None
    assert "corrupt" in corrupt.error

    data = gzip.compress(b"<a>" * 100)
    cut = BodyReader("gzip", limit=1000)
    assert cut.feed(data[: len(data) // 2])
    cut.body()
    assert cut.error == "compressed body ends before its end marker"


def test_unknown_content_encoding_is_an_error_not_a_guess() -> None:
    reader = BodyReader("br", limit=1000)
    assert not reader.feed(b"\x0b\x02\x80hello\x03")
    assert reader.error == "unsupported Content-Encoding 'br'"
    assert reader.body() == b""
