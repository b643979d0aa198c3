"""A CA bundle as an OpenSSL hashed directory, so that a TLS context loads roots on demand.

``ssl.create_default_context(cafile=certifi.where())`` parses every root in the bundle (about
140) when the context is made: ~15 ms of CPU and ~2 MiB, on the first request of every process,
to use one of them. Given a directory (``capath=``) instead, OpenSSL makes the context at once
and reads a root only when a handshake asks for its issuer, from the file named after the
issuer's *subject hash* (``<8 hex digits>.<n>``, what ``openssl rehash`` writes). The trust
anchors are the same: the directory holds every certificate of the bundle, and nothing else.

The directory is built once per bundle content, in a private cache directory, and reused by
later processes. Only bundles this module fully understands are turned into a directory: plain
``CERTIFICATE`` blocks of well-formed DER. Anything else (CRLs, ``TRUSTED CERTIFICATE`` blocks,
odd encodings, a cache that cannot be written or is not ours) returns ``None``, and the caller
loads the bundle as before.

The subject hash is OpenSSL's ``X509_NAME_hash_ex``: the first four bytes (little-endian) of the
SHA-1 of the subject name's canonical encoding, where every string value becomes a UTF8String,
trimmed, with inner whitespace runs collapsed to one space and ASCII letters lower-cased, and
the outer SEQUENCE header is left out (OpenSSL's ``x509_name_canon``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat

__all__ = ["hashed_directory", "subject_hash"]

# --- DER, as much as a certificate's subject needs -----------------------------------------------


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``pos``; DER only."""
    tag = der[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not used in certificate names")
    length = der[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("bad length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        raise ValueError("truncated element")
    return tag, start, end


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements inside ``der[start:end]``, each as (tag, header start, content start, end)."""
    out = []
    pos = start
    while pos < end:
        tag, content, stop = _tlv(der, pos)
        out.append((tag, pos, content, stop))
        pos = stop
    if pos != end:
        raise ValueError("elements overrun their container")
    return out


def _encode(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


_SEQUENCE, _SET, _UTF8STRING = 0x30, 0x31, 0x0C
# String types OpenSSL canonicalises (ASN1_MASK_CANON), with how each decodes to text.
_TEXT_TYPES = {
    0x0C: "utf-8",  # UTF8String
    0x13: "latin-1",  # PrintableString
    0x14: "latin-1",  # T61String (OpenSSL reads it one byte a character)
    0x16: "latin-1",  # IA5String
    0x1A: "latin-1",  # VisibleString
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}


def _canonical_text(raw: bytes) -> bytes:
    """OpenSSL's ``asn1_string_canon`` on UTF-8 bytes: trimmed, inner runs of whitespace made
    one space, ASCII letters lower-cased. ``bytes.split()`` splits on exactly the characters
    OpenSSL's ``ossl_isspace`` takes (space, tab, LF, VT, FF, CR) and ``bytes.lower()`` touches
    only A-Z, as ``ossl_tolower`` does."""
    return b" ".join(raw.split()).lower()


def _canonical_entry(der: bytes, start: int, end: int) -> bytes:
    """One AttributeTypeAndValue, its value canonicalised when it is a string."""
    parts = _children(der, start, end)
    if len(parts) != 2 or parts[0][0] != 0x06:
        raise ValueError("malformed AttributeTypeAndValue")
    (_, oid_at, _, oid_end), (tag, value_at, value, value_end) = parts
    encoding = _TEXT_TYPES.get(tag)
    if encoding is None:
        value_der = der[value_at:value_end]  # copied as it is
    else:
        text = der[value:value_end].decode(encoding)
        if encoding == "utf-16-be" and any(ord(c) > 0xFFFF for c in text):
            # OpenSSL reads a BMPString one 16-bit unit a character, surrogates included;
            # Python pairs them. Such a name is too odd to hash here: load the file instead.
            raise ValueError("surrogates in a BMPString")
        value_der = _encode(_UTF8STRING, _canonical_text(text.encode("utf-8")))
    return _encode(_SEQUENCE, der[oid_at:oid_end] + value_der)


def _canonical_name(der: bytes, start: int, end: int) -> bytes:
    out = []
    for tag, _, content, stop in _children(der, start, end):
        if tag != _SET:
            raise ValueError("a Name holds SETs")
        entries = []
        for entry_tag, _, entry, entry_end in _children(der, content, stop):
            if entry_tag != _SEQUENCE:
                raise ValueError("an RDN holds SEQUENCEs")
            entries.append(_canonical_entry(der, entry, entry_end))
        # DER orders a SET OF by its encodings (a shorter prefix first).
        out.append(_encode(_SET, b"".join(sorted(entries))))
    return b"".join(out)


def subject_hash(der: bytes) -> int:
    """OpenSSL's subject name hash (``openssl x509 -subject_hash``) of a DER certificate."""
    tag, cert, cert_end = _tlv(der, 0)
    if tag != _SEQUENCE or cert_end != len(der):
        raise ValueError("not a DER certificate")
    tag, tbs, tbs_end = _tlv(der, cert)
    if tag != _SEQUENCE:
        raise ValueError("not a DER certificate")
    fields = _children(der, tbs, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject
    if len(fields) < 5 or fields[4][0] != _SEQUENCE:
        raise ValueError("certificate without a subject")
    _, _, name, name_end = fields[4]
    digest = hashlib.sha1(_canonical_name(der, name, name_end), usedforsecurity=False).digest()
    return int.from_bytes(digest[:4], "little")


# --- PEM bundles ----------------------------------------------------------------------------------

_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


def _certificates(pem: bytes) -> list[tuple[bytes, bytes]] | None:
    """(PEM block, DER) of each certificate, or ``None`` when the bundle holds anything but
    ``CERTIFICATE`` blocks (text between blocks is ignored, as OpenSSL does)."""
    if pem.count(b"-----BEGIN ") != pem.count(_BEGIN) or pem.count(b"-----END ") != pem.count(_END):
        return None
    out = []
    for chunk in pem.split(_BEGIN)[1:]:
        body, end, _ = chunk.partition(_END)
        if not end:
            return None
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except binascii.Error:
            return None
        out.append((_BEGIN + body + _END + b"\n", der))
    return out or None


def _hashed_files(pem: bytes) -> dict[str, bytes] | None:
    """``{"<hash>.<n>": PEM block}`` for every certificate of ``pem``, ``None`` if not plain."""
    certificates = _certificates(pem)
    if certificates is None:
        return None
    files: dict[str, bytes] = {}
    for block, der in certificates:
        try:
            name_hash = subject_hash(der)
        except (ValueError, IndexError, UnicodeError):
            return None
        n = 0
        while f"{name_hash:08x}.{n}" in files:  # same hash, another subject (or key)
            n += 1
        files[f"{name_hash:08x}.{n}"] = block
    return files


# --- the cache ------------------------------------------------------------------------------------

#: Bumped whenever the directory's layout or the hash changes.
_FORMAT = "ca1"


def _ours(path: str) -> bool:
    """``path`` is a directory (not a link to one) owned by this user that no one else may
    write into."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _cache_root() -> str | None:
    """A private directory for the hashed bundles: ``$XDG_CACHE_HOME/cfinval`` (or
    ``~/.cache/cfinval``), else ``cfinval-<uid>`` in ``$TMPDIR`` or ``/tmp`` (AWS Lambda, where
    only ``/tmp`` is writable). It must be ours alone; ``None`` if none can be."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    if os.path.isabs(xdg):
        root = os.path.join(xdg, "cfinval")
    elif os.path.isabs(home):
        root = os.path.join(home, ".cache", "cfinval")
    else:
        root = ""
    if root and _private_dir(root):
        return root
    # A shared directory: _private_dir refuses what another user made there first.
    tmp = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108
    root = os.path.join(tmp, f"cfinval-{os.getuid()}")
    return root if _private_dir(root) else None


def _private_dir(path: str) -> bool:
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return False
    return _ours(path)


def _complete(directory: str, pem: bytes) -> bool:
    """Every certificate of ``pem`` has its file (a cleaner of old files in ``/tmp`` may have
    taken some; a missing root would fail every handshake that needs it)."""
    try:
        return len(os.listdir(directory)) == pem.count(_BEGIN)
    except OSError:
        return False


def _write(directory: str, files: dict[str, bytes]) -> None:
    for name, block in files.items():
        fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, block)
        finally:
            os.close(fd)


def _remove(directory: str) -> None:
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


def hashed_directory(bundle: str) -> str | None:
    """A directory holding exactly the certificates of the PEM file ``bundle``, hashed for
    ``capath=``; ``None`` when that cannot be done safely (then load the file itself).

    Raises ``OSError`` when ``bundle`` cannot be read.
    """
    if not hasattr(os, "getuid"):  # pragma: no cover  (Windows: no owner check, no cache)
        return None
    with open(bundle, "rb") as f:
        pem = f.read()
    root = _cache_root()
    if root is None:
        return None
    target = os.path.join(root, f"{_FORMAT}-{hashlib.sha256(pem).hexdigest()[:32]}")
    if _ours(target) and _complete(target, pem):
        return target
    files = _hashed_files(pem)
    if files is None:
        return None
    # Built aside and renamed into place: another process sees all of it or nothing.
    work = os.path.join(root, f".build-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        os.mkdir(work, 0o700)
        try:
            _write(work, files)
            if os.path.lexists(target):  # incomplete, or not ours: out of the way
                stale = f"{work}-stale"
                os.rename(target, stale)
                _remove(stale)
            os.rename(work, target)
        except OSError:
            _remove(work)
            raise
    except OSError:
        # Another process may have put a complete directory in place meanwhile.
        return target if _ours(target) and _complete(target, pem) else None
    return target
