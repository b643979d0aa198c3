"""A CA bundle as an OpenSSL hashed directory, so that a TLS context loads roots on demand.

``ssl.create_default_context(cafile=certifi.where())`` parses every root in the bundle (about
140) when the context is made: ~15 ms of CPU and ~2 MiB, on the first request of every process,
to use one of them. Given a directory (``capath=``) instead, OpenSSL makes the context at once
and reads a root only when a handshake asks for its issuer, from the file named after the
issuer's *subject hash* (``<8 hex digits>.<n>``, what ``openssl rehash`` writes). The trust
anchors are the same: the directory holds every certificate of the bundle, and nothing else.

The directory is built once per bundle file and content, in a private cache directory, and
reused by later processes. Only bundles this module fully understands are turned into a
directory: plain ``CERTIFICATE`` blocks of well-formed DER. Anything else (CRLs, ``TRUSTED
CERTIFICATE`` blocks, odd encodings, a cache that cannot be written or is not safe) makes
:func:`verifying_context` load the bundle itself, as httpx would.

**Safe paths.** OpenSSL opens a root file by its path when a handshake needs it, possibly hours
after the context was made, so the cache must be one that no other user can change at any time,
not just when it is checked: every directory from ``/`` down to it must be owned by root or by
this user and not writable by anyone else, unless it is sticky (``/tmp``: others may create
entries there but not rename or remove ours), the cache directory itself ours with mode 0700, and
no part of the path a link (links above the cache are resolved once, and OpenSSL gets the real
path). ``$TMPDIR`` or ``$XDG_CACHE_HOME`` in a shared directory that is not sticky fails this,
and the bundle is loaded itself. Nothing here follows a link: the checks use ``lstat``, a link
where the cache or one of its directories should be is refused (or renamed away and unlinked
itself when it sits inside our own cache), and removal never descends through one.

**A directory that goes away.** A cache can be deleted while a client runs (by hand, or by a
cleaner of old files in ``/tmp``). OpenSSL keeps a root once it has read it, so only a handshake
needing a root not read yet depends on the files. Rather than checking the directory before
every connection (a race with the cleaner all the same), the transports of a context made on a
cache directory (:func:`recovering`) catch a connection that failed *certificate verification*
while the directory is gone, incomplete or replaced: the bundle file is then loaded into the
very same context (exactly its roots, as ``cafile=`` would, and as boto3 loads the bundle into
its context for every new connection) and that connection is retried once. From then on nothing
depends on the cache; a request never fails because of it, and nothing is checked while it is
there. A new client builds the directory again (it is checked for every file when reused).

**Clean-up.** Building a directory removes, in the same cache: ``.build-*`` directories older
than five minutes (a process died while building), the directories of the same bundle file for
other contents (superseded: certifi was upgraded) or an earlier layout (``ca1-*``), and other
bundles' directories no process has used for 30 days.

**Switching it off.** ``CFINVAL_CA_CACHE=off`` (or ``0``, ``false``, ``no``) makes every bundle be
loaded whole, as httpx loads one, and nothing is written (``bench/run.py`` measures both ways).

The subject hash is OpenSSL's ``X509_NAME_hash_ex``: the first four bytes (little-endian) of the
SHA-1 of the subject name's canonical encoding, where every string value becomes a UTF8String,
trimmed, with inner whitespace runs collapsed to one space and ASCII letters lower-cased, and
the outer SEQUENCE header is left out (OpenSSL's ``x509_name_canon``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import shutil
import ssl
import stat
import time
import weakref

import httpx

from .._core.locks import ForkSafeLock

__all__ = [
    "hashed_directory",
    "recovering",
    "recovering_async",
    "subject_hash",
    "verifying_context",
]

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

#: Bumped whenever the directory's layout, name or hash changes (``ca1``: named by content only).
_FORMAT = "ca2"
#: A ``.build-*`` directory this old (seconds) belongs to a process that died while building.
_ABANDONED = 300
#: Another bundle's directory that no process has used for this long (seconds) is removed.
_UNUSED = 30 * 24 * 3600


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


def _safe_path(path: str) -> bool:
    """Every directory from ``/`` down to ``path`` (a real path) is a directory, not a link,
    owned by root or this user, that no one else may write into unless it is sticky (``/tmp``:
    others may add entries there, but not rename or remove ours). Then no other user can ever
    replace a part of the path, so what is checked once stays true however late OpenSSL opens a
    file under it (OpenSSH's safe-path rule, with sticky directories allowed)."""
    uid = os.getuid()
    while True:
        try:
            info = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (0, uid):
            return False
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _private_dir(path: str) -> str | None:
    """``path``, made (mode 0700) if missing, as a real path (links above it resolved), when
    every directory down to it passes :func:`_safe_path` and it is ours alone; else ``None``."""
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, mode=0o700, exist_ok=True)
        parent = os.path.realpath(parent)
        if not _safe_path(parent):
            return None
        path = os.path.join(parent, os.path.basename(path))
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)  # never through a link: an existing one fails here
    except OSError:
        return None
    return path if _ours(path) else None


def _cache_root() -> str | None:
    """A private directory for the hashed bundles: ``$XDG_CACHE_HOME/cfinval`` (or
    ``~/.cache/cfinval``), else ``cfinval-<uid>`` in ``$TMPDIR`` or ``/tmp`` (AWS Lambda, where
    only ``/tmp`` is writable), the first that :func:`_private_dir` accepts; ``None`` if none."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    if os.path.isabs(xdg):
        root = _private_dir(os.path.join(xdg, "cfinval"))
    elif os.path.isabs(home):
        root = _private_dir(os.path.join(home, ".cache", "cfinval"))
    else:
        root = None
    if root is None:
        tmp = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108  (checked as any other)
        root = _private_dir(os.path.join(os.path.abspath(tmp), f"cfinval-{os.getuid()}"))
    return root


def _complete(directory: str, count: int) -> bool:
    """The directory holds its ``count`` files (a cleaner of old files in ``/tmp`` may have
    taken some; a missing root would fail every handshake that needs it)."""
    try:
        return len(os.listdir(directory)) == count
    except OSError:
        return False


def _write(directory: str, files: dict[str, bytes]) -> None:
    for name, block in files.items():
        fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, block)
        finally:
            os.close(fd)


def _remove(path: str) -> None:
    """Remove ``path`` without following a link: a link (or file) is unlinked itself, a
    directory removed with what it holds (``shutil.rmtree`` refuses a link and, where the OS
    allows, walks the tree by file descriptor, never through a link)."""
    if stat.S_ISDIR(os.lstat(path).st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _sweep(root: str, keep: str, source: str) -> None:
    """After ``keep`` was built: remove what nothing needs any more. Builds older than
    :data:`_ABANDONED` (their process died), this bundle file's directories for other contents
    (superseded: certifi was upgraded) or in an earlier format, and other bundles' directories
    unused for :data:`_UNUSED`. Names that are not cfinval's are left alone. Best effort."""
    now = time.time()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name == keep:
            continue
        path = os.path.join(root, name)
        try:
            age = now - os.lstat(path).st_mtime
            if name.startswith(".build-"):
                stale = age > _ABANDONED
            elif name.startswith(f"{_FORMAT}-"):
                stale = name.startswith(f"{_FORMAT}-{source}-") or age > _UNUSED
            else:  # an earlier layout: ca1-...
                version, dash, _ = name.removeprefix("ca").partition("-")
                stale = name.startswith("ca") and version.isdecimal() and bool(dash)
            if stale:
                _remove(path)
        except OSError:
            continue


def _switched_off() -> bool:
    """``CFINVAL_CA_CACHE=off`` (``0``, ``false``, ``no``): load every bundle whole."""
    return os.environ.get("CFINVAL_CA_CACHE", "").strip().lower() in ("0", "off", "false", "no")


def _directory(bundle: str) -> tuple[str, int] | None:
    """(the hashed directory of ``bundle``, how many files it holds), built if need be."""
    if not hasattr(os, "getuid"):  # pragma: no cover  (Windows: no owner check, no cache)
        return None
    if _switched_off():
        return None
    with open(bundle, "rb") as f:
        pem = f.read()
    root = _cache_root()
    if root is None:
        return None
    source = hashlib.sha256(os.fsencode(os.path.realpath(bundle))).hexdigest()[:8]
    name = f"{_FORMAT}-{source}-{hashlib.sha256(pem).hexdigest()[:32]}"
    target = os.path.join(root, name)
    count = pem.count(_BEGIN)
    if _ours(target) and _complete(target, count):
        with contextlib.suppress(OSError):
            os.utime(target)  # in use: not another bundle's "unused" directory to sweep
        return target, count
    files = _hashed_files(pem)
    if files is None:
        return None
    # Built aside and renamed into place: another process sees all of it or nothing.
    work = os.path.join(root, f".build-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        os.mkdir(work, 0o700)
        try:
            _write(work, files)
            if os.path.lexists(target):  # incomplete, not ours, or a link: out of the way
                stale = f"{work}-stale"
                os.rename(target, stale)  # renames a link itself, never what it points to
                _remove(stale)
            os.rename(work, target)
        except OSError:
            with contextlib.suppress(OSError):
                _remove(work)
            raise
    except OSError:
        # Another process may have put a complete directory in place meanwhile.
        return (target, count) if _ours(target) and _complete(target, count) else None
    _sweep(root, name, source)
    return target, count


def hashed_directory(bundle: str) -> str | None:
    """A directory holding exactly the certificates of the PEM file ``bundle``, hashed for
    ``capath=``; ``None`` when that cannot be done safely (then load the file itself).

    Raises ``OSError`` when ``bundle`` cannot be read.
    """
    found = _directory(bundle)
    return None if found is None else found[0]


# --- at run time: a directory that goes away --------------------------------------------------

log = logging.getLogger("cfinval")


class _Fallback:
    """What a context reading roots from a cache directory does when that directory is no
    longer as it was built: load ``bundle`` itself, once."""

    def __init__(self, bundle: str, directory: str, count: int) -> None:
        self._bundle = bundle
        self._directory = directory
        self._count = count
        self._identity = self._stat()
        self._lock = ForkSafeLock()
        #: The whole bundle is in the context's store: nothing depends on the directory now.
        self.loaded = False

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.lstat(self._directory)
        except OSError:
            return None
        return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None

    def _intact(self) -> bool:
        """The very directory the context was made with, holding all its files."""
        identity = self._stat()
        return (
            identity is not None
            and identity == self._identity
            and _complete(self._directory, self._count)
        )

    def recover(self, context: ssl.SSLContext, error: BaseException) -> bool:
        """After a connection failed with ``error``: ``True`` when it failed certificate
        verification and the directory is gone, incomplete or replaced (a root the handshake
        needed may have been missing); the bundle is then loaded into ``context`` (it was not
        before this call, or another thread just did it), so retrying verifies against exactly
        the bundle's roots and no file under the cache."""
        if not _failed_verification(error):
            return False
        with self._lock:
            if self.loaded:
                return True
            if self._intact():
                return False  # the cache is as built: the failure is the server's
            try:
                context.load_verify_locations(cafile=self._bundle)
            except OSError as exc:  # ssl.SSLError too; boto3 would fail to connect as well
                log.debug("cannot load %s after its cache went away: %s", self._bundle, exc)
                return False
            self.loaded = True
        log.debug(
            "the cache %s of %s changed under a running client: loaded the bundle itself",
            self._directory,
            self._bundle,
        )
        return True


def _failed_verification(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


#: The contexts made on a cache directory, with their fallback (weakly: a context outlives no
#: client).
_FALLBACKS: weakref.WeakKeyDictionary[ssl.SSLContext, _Fallback] = weakref.WeakKeyDictionary()


def verifying_context(bundle: str) -> ssl.SSLContext:
    """A verifying TLS context trusting exactly the certificates of the PEM file ``bundle``:
    read from a cache directory when one can be used safely (give its transports to
    :func:`recovering` / :func:`recovering_async`), else loaded now.

    Raises ``OSError`` (``ssl.SSLError`` included) when ``bundle`` cannot be loaded.
    """
    found = _directory(bundle)
    if found is None:
        return ssl.create_default_context(cafile=bundle)
    directory, count = found
    context = ssl.create_default_context(capath=directory)
    _FALLBACKS[context] = _Fallback(bundle, directory, count)
    return context


class _Recovering(httpx.BaseTransport):
    def __init__(
        self, transport: httpx.BaseTransport, context: ssl.SSLContext, fallback: _Fallback
    ) -> None:
        self._transport = transport
        self._context = context
        self._fallback = fallback

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        loaded = self._fallback.loaded
        try:
            return self._transport.handle_request(request)
        except httpx.ConnectError as exc:  # nothing of the request was sent
            if loaded or not self._fallback.recover(self._context, exc):
                raise
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


class _AsyncRecovering(httpx.AsyncBaseTransport):
    def __init__(
        self, transport: httpx.AsyncBaseTransport, context: ssl.SSLContext, fallback: _Fallback
    ) -> None:
        self._transport = transport
        self._context = context
        self._fallback = fallback

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loaded = self._fallback.loaded
        try:
            return await self._transport.handle_async_request(request)
        except httpx.ConnectError as exc:
            if loaded or not self._fallback.recover(self._context, exc):
                raise
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def _fallback_of(verify: object) -> tuple[ssl.SSLContext, _Fallback] | None:
    if isinstance(verify, ssl.SSLContext):
        fallback = _FALLBACKS.get(verify)
        if fallback is not None:
            return verify, fallback
    return None


def recovering(transport: httpx.BaseTransport, verify: object) -> httpx.BaseTransport:
    """``transport`` (made with ``verify``), retrying a connection once when it failed because
    the cache directory of ``verify`` went away (see :meth:`_Fallback.recover`)."""
    found = _fallback_of(verify)
    return transport if found is None else _Recovering(transport, *found)


def recovering_async(
    transport: httpx.AsyncBaseTransport, verify: object
) -> httpx.AsyncBaseTransport:
    """The asynchronous twin of :func:`recovering`."""
    found = _fallback_of(verify)
    return transport if found is None else _AsyncRecovering(transport, *found)
