"""A CA bundle as an OpenSSL hashed directory: OpenSSL's own hashes, the same certificates, a
private cache on a path no other user can change, the file loaded as before whenever the
directory cannot be trusted or goes away under a running client, and old directories removed."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

import cfinval
from cfinval._drivers import trust
from cfinval._drivers.trust import hashed_directory, subject_hash
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront, FakeServer

from .tls import TlsFiles, make_tls_files


def openssl(*args: str, cwd: Path) -> str:
    """The ``openssl`` command: its own subject hashes are what cfinval's must equal."""
    command = shutil.which("openssl")
    if command is None:
        pytest.skip("the openssl command is the oracle for subject hashes")
    done = subprocess.run([command, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


CERTIFI = Path(certifi.where()).read_bytes()


def _ders(pem: bytes) -> list[bytes]:
    return [ssl.PEM_cert_to_DER_cert(block.decode()) for block, _ in _blocks(pem)]


def _blocks(pem: bytes) -> list[tuple[bytes, bytes]]:
    found = trust._certificates(pem)
    assert found is not None
    return found


def test_subject_hash_is_openssls_for_every_root_in_certifi(tmp_path: Path) -> None:
    blocks = _blocks(CERTIFI)
    assert len(blocks) > 100
    for n, (block, _) in enumerate(blocks):
        (tmp_path / f"root{n:03}.pem").write_bytes(block)
    openssl("rehash", str(tmp_path), cwd=tmp_path)  # names a link <hash>.<n> for each file
    theirs = {os.readlink(p): p.name.split(".")[0] for p in tmp_path.iterdir() if p.is_symlink()}
    ours = {f"root{n:03}.pem": f"{subject_hash(der):08x}" for n, (_, der) in enumerate(blocks)}
    assert ours == theirs


@pytest.mark.parametrize(
    ("subject", "flags"),
    [
        ("/C=US/O=  Some \t Org  /CN=UPPER lower", []),  # trimmed, runs collapsed, lower-cased
        ("/CN=b+OU=a+O=c/L=Z", ["-multivalue-rdn"]),  # a multi-valued RDN: DER sorts its SET
        ("/emailAddress=Admin@Example.COM/CN=x", []),  # IA5String
        ("/CN=Ünïcödé  NAME/O=x", ["-utf8"]),  # T61String under string_mask=default
        ("/CN=日本語 ABC", ["-utf8"]),  # BMPString
        ("/CN=Ünïcödé NAME", ["-utf8", "-config", "utf8.cnf"]),  # UTF8String
    ],
)
def test_subject_hash_is_openssls_for_odd_names(
    tmp_path: Path, subject: str, flags: list[str]
) -> None:
    (tmp_path / "req.cnf").write_text("[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n")
    (tmp_path / "utf8.cnf").write_text("[req]\ndistinguished_name=dn\nstring_mask=utf8only\n[dn]\n")
    if "-config" not in flags:
        flags = [*flags, "-config", "req.cnf"]
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem", cwd=tmp_path)
    openssl("req", "-x509", "-key", "k.pem", "-days", "1", "-out", "c.pem", "-subj", subject,
            *flags, cwd=tmp_path)  # fmt: skip
    theirs = openssl("x509", "-in", "c.pem", "-noout", "-subject_hash", cwd=tmp_path).strip()
    (der,) = _ders((tmp_path / "c.pem").read_bytes())
    assert f"{subject_hash(der):08x}" == theirs


def _bundle(tmp_path: Path, text: bytes = CERTIFI) -> str:
    path = tmp_path / "bundle.pem"
    path.write_bytes(text)
    return str(path)


def test_the_directory_holds_every_certificate_under_its_hash(tmp_path: Path) -> None:
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    files = {name: Path(directory, name).read_bytes() for name in os.listdir(directory)}
    blocks = _blocks(CERTIFI)
    assert sorted(files.values()) == sorted(block for block, _ in blocks)
    for name, block in files.items():
        (der,) = _ders(block)
        assert name.startswith(f"{subject_hash(der):08x}.")
    assert directory.startswith(str(Path.home() / ".cache" / "cfinval"))
    for path in (Path(directory), Path(directory).parent):  # private: ours, no one else's
        assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_a_context_on_the_directory_loads_no_root_until_a_handshake_asks(tmp_path: Path) -> None:
    directory = hashed_directory(_bundle(tmp_path))
    lazy = ssl.create_default_context(capath=directory)
    eager = ssl.create_default_context(cafile=_bundle(tmp_path))
    assert lazy.cert_store_stats()["x509_ca"] == 0
    assert eager.cert_store_stats()["x509_ca"] == len(_blocks(CERTIFI))


def test_the_directory_is_built_once_and_reused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    first = hashed_directory(bundle)
    assert first is not None
    built = {p.name: p.stat().st_ino for p in Path(first).iterdir()}
    assert hashed_directory(bundle) == first
    assert {p.name: p.stat().st_ino for p in Path(first).iterdir()} == built


def test_another_bundle_gets_another_directory(tmp_path: Path) -> None:
    blocks = _blocks(CERTIFI)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = hashed_directory(_bundle(tmp_path / "one", b"".join(block for block, _ in blocks[:3])))
    two = hashed_directory(_bundle(tmp_path / "two", b"".join(block for block, _ in blocks[3:5])))
    assert one is not None
    assert two is not None
    assert one != two
    assert len(os.listdir(one)) == 3
    assert len(os.listdir(two)) == 2


def test_a_directory_missing_a_root_is_rebuilt(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    directory = hashed_directory(bundle)
    assert directory is not None
    victim = sorted(os.listdir(directory))[0]
    os.unlink(os.path.join(directory, victim))  # as a cleaner of old files in /tmp may do
    assert hashed_directory(bundle) == directory
    assert victim in os.listdir(directory)
    assert len(os.listdir(directory)) == len(_blocks(CERTIFI))


@pytest.mark.parametrize(
    "extra",
    [
        b"-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n",
        b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",  # not a certificate
        b"-----BEGIN CERTIFICATE-----\nAAAA\n",  # no end
    ],
)
def test_a_bundle_with_anything_else_is_left_to_openssl(tmp_path: Path, extra: bytes) -> None:
    assert hashed_directory(_bundle(tmp_path, CERTIFI + extra)) is None
    assert not list((Path.home() / ".cache" / "cfinval").glob("ca*"))


def test_an_empty_bundle_is_left_to_openssl(tmp_path: Path) -> None:
    assert hashed_directory(_bundle(tmp_path, b"# no certificates\n")) is None


def test_a_cache_others_may_write_into_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = Path.home() / ".cache" / "cfinval"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == tmp_path / "tmp" / f"cfinval-{os.getuid()}"
    assert not list(shared.iterdir())


def test_a_cache_that_is_a_link_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (Path.home() / ".cache").mkdir()
    (Path.home() / ".cache" / "cfinval").symlink_to(elsewhere)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "no-such-dir" / "x"))
    (tmp_path / "no-such-dir").write_text("a file: nothing can be made under it")
    assert hashed_directory(_bundle(tmp_path)) is None
    assert not list(elsewhere.iterdir())


def test_without_a_home_the_cache_is_in_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOME")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == tmp_path / f"cfinval-{os.getuid()}"


def test_the_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == tmp_path / "xdg" / "cfinval"


def test_an_unreadable_bundle_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.pem"):
        hashed_directory(str(tmp_path / "missing.pem"))


# --- only a cache no other user can change: every directory down to it is checked ----------------


def _shared(path: Path, mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


def _eager(context: ssl.SSLContext) -> int:
    """How many roots the context loaded when it was made (0 on a hashed directory)."""
    return context.cert_store_stats()["x509_ca"]


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777], ids=["group", "other", "both"])
@pytest.mark.parametrize("depth", [0, 2], ids=["parent", "grandparent"])
def test_a_cache_below_a_directory_others_may_write_into_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int, depth: int
) -> None:
    shared = _shared(tmp_path / "shared", mode)  # not sticky: others may rename what is in it
    below = shared.joinpath(*["sub"] * depth)
    below.mkdir(mode=0o700, parents=True, exist_ok=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(below / "xdg"))
    monkeypatch.setenv("TMPDIR", str(below))
    bundle = _bundle(tmp_path)
    assert hashed_directory(bundle) is None
    assert not list(shared.rglob("cfinval*"))
    assert _eager(trust.verifying_context(bundle)) == len(_blocks(CERTIFI))  # cafile=, as httpx


def test_a_sticky_tmpdir_with_a_private_directory_in_it_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sticky = _shared(tmp_path / "tmp", 0o1777)  # as /tmp
    monkeypatch.delenv("HOME")
    monkeypatch.setenv("TMPDIR", str(sticky))
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == sticky / f"cfinval-{os.getuid()}"
    assert stat.S_IMODE(Path(directory).parent.stat().st_mode) == 0o700
    assert _eager(trust.verifying_context(_bundle(tmp_path))) == 0


def test_a_non_sticky_tmpdir_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOME")
    monkeypatch.setenv("TMPDIR", str(_shared(tmp_path / "tmp", 0o777)))
    assert hashed_directory(_bundle(tmp_path)) is None
    assert not list((tmp_path / "tmp").iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_cache_below_another_users_directory_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = _shared(tmp_path / "theirs", 0o755)
    os.chown(theirs, 4242, 4242)  # they may rename our directory in theirs at any time
    (theirs / "xdg").mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(theirs / "xdg"))
    monkeypatch.setenv("TMPDIR", str(theirs / "xdg"))
    assert hashed_directory(_bundle(tmp_path)) is None


def test_a_link_above_the_cache_is_resolved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)  # as macOS's /tmp -> /private/tmp
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "link"))
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == real / "cfinval"  # what OpenSSL opens: no link to swap


def test_a_link_where_the_directory_was_is_removed_not_followed(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    directory = hashed_directory(bundle)
    assert directory is not None
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("kept")
    for name in os.listdir(directory):  # as many files as the bundle has certificates
        (victim / name).write_text("not a certificate")
    shutil.rmtree(directory)
    os.symlink(victim, directory)
    assert hashed_directory(bundle) == directory
    assert not os.path.islink(directory)
    assert len(os.listdir(directory)) == len(_blocks(CERTIFI))
    assert (victim / "precious").read_text() == "kept"
    assert len(list(victim.iterdir())) == len(_blocks(CERTIFI)) + 1


# --- building removes what nothing needs any more ------------------------------------------------


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_building_removes_abandoned_builds_and_superseded_directories(tmp_path: Path) -> None:
    blocks = [block for block, _ in _blocks(CERTIFI)]
    bundle = _bundle(tmp_path, b"".join(blocks[:3]))
    old = hashed_directory(bundle)
    assert old is not None
    cache = Path(old).parent
    (tmp_path / "other").mkdir()
    other = hashed_directory(_bundle(tmp_path / "other", b"".join(blocks[3:5])))
    (tmp_path / "unused").mkdir()
    unused = hashed_directory(_bundle(tmp_path / "unused", b"".join(blocks[5:7])))
    assert other is not None
    assert unused is not None
    _age(Path(unused), 31 * 24 * 3600)
    for name in (".build-1-dead", ".build-2-live", "ca1-d87887200c9a705dccc937b9b83b5e67"):
        (cache / name).mkdir()
        (cache / name / "00000000.0").write_bytes(blocks[0])
    _age(cache / ".build-1-dead", 600)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious").write_text("kept")
    (cache / ".build-3-link").symlink_to(victim)
    _age(cache / ".build-3-link", 600)
    (cache / "notes.txt").write_text("not cfinval's")

    Path(bundle).write_bytes(b"".join(blocks[:4]))  # certifi upgraded: same file, new content
    new = hashed_directory(bundle)

    assert new is not None
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [Path(new).name, Path(other).name, ".build-2-live", "notes.txt"]
    )
    assert (victim / "precious").read_text() == "kept"


def test_reusing_a_directory_keeps_it_from_looking_unused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    directory = hashed_directory(bundle)
    assert directory is not None
    _age(Path(directory), 31 * 24 * 3600)
    assert hashed_directory(bundle) == directory
    assert time.time() - Path(directory).stat().st_mtime < 60


# --- a cache deleted under a running client -------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https(tls: TlsFiles) -> Iterator[FakeServer]:
    fake = FakeCloudFront(seed=5)
    fake.add_invalidation("dt_1", status="Completed")
    with fake.serve(ssl_certfile=tls.cert, ssl_keyfile=tls.key) as server:
        yield server


@pytest.fixture
def bundles_loaded(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ``cafile=`` loaded into a TLS context."""
    loaded: list[object] = []
    original: Callable[..., Any] = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, cafile: Any = None, *args: Any, **kwargs: Any) -> Any:
        if cafile is not None:
            loaded.append(cafile)
        return original(self, cafile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return loaded


def _cleaned_after_the_context_is_made(
    monkeypatch: pytest.MonkeyPatch, clean: Callable[[str], None]
) -> None:
    """A cleaner runs between the client's TLS context being made and its first handshake
    (in a long-lived process: hours later)."""
    made = trust.verifying_context

    def then_cleaned(bundle: str) -> ssl.SSLContext:
        context = made(bundle)
        (directory,) = (Path.home() / ".cache" / "cfinval").glob("ca*")
        clean(str(directory))
        return context

    monkeypatch.setattr(trust, "verifying_context", then_cleaned)


def _list(endpoint_url: str, asynchronous: bool) -> cfinval.InvalidationList:
    if not asynchronous:
        with cfinval.Client(FAKE_CREDENTIALS, endpoint_url=endpoint_url, max_attempts=1) as c:
            return c.list_invalidations_for_distribution_tenant(Id="dt_1")

    async def main() -> cfinval.InvalidationList:
        async with cfinval.AsyncClient(
            FAKE_CREDENTIALS, endpoint_url=endpoint_url, max_attempts=1
        ) as client:
            return await client.list_invalidations_for_distribution_tenant(Id="dt_1")

    return asyncio.run(main())


def _remove_the_test_ca(tls: TlsFiles) -> Callable[[str], None]:
    (der,) = _ders(tls.ca.read_bytes())
    return lambda directory: os.unlink(os.path.join(directory, f"{subject_hash(der):08x}.0"))


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("cleaned", ["directory", "root file"])
def test_a_client_whose_cache_was_deleted_still_verifies_with_the_bundle(
    https: FakeServer,
    tls: TlsFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bundles_loaded: list[object],
    asynchronous: bool,
    cleaned: str,
) -> None:
    bundle = _bundle(tmp_path, CERTIFI + tls.ca.read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", bundle)
    clean = shutil.rmtree if cleaned == "directory" else _remove_the_test_ca(tls)
    _cleaned_after_the_context_is_made(monkeypatch, clean)
    page = _list(https.endpoint_url, asynchronous)
    assert [item.status for item in page.items] == ["Completed"]
    assert bundles_loaded == [bundle]  # the bundle itself, once the directory was found gone


def test_a_server_the_intact_cache_does_not_trust_fails_without_loading_the_bundle(
    https: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bundles_loaded: list[object],
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", _bundle(tmp_path))  # certifi only: not the test CA
    with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        _list(https.endpoint_url, asynchronous=False)
    assert bundles_loaded == []


def test_a_server_the_bundle_does_not_trust_still_fails_after_the_cache_went(
    https: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bundles_loaded: list[object],
) -> None:
    bundle = _bundle(tmp_path)  # certifi only: not the test CA
    monkeypatch.setenv("AWS_CA_BUNDLE", bundle)
    _cleaned_after_the_context_is_made(monkeypatch, shutil.rmtree)
    with pytest.raises(cfinval.TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        _list(https.endpoint_url, asynchronous=False)
    assert bundles_loaded == [bundle]  # loaded once, retried once, refused as boto3 would


@pytest.mark.parametrize("value", ["off", "0", "False", " no "])
def test_switched_off_a_client_loads_the_bundle_whole_and_writes_no_cache(
    https: FakeServer,
    tls: TlsFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bundles_loaded: list[object],
    value: str,
) -> None:
    monkeypatch.setenv("CFINVAL_CA_CACHE", value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    bundle = _bundle(tmp_path, CERTIFI + tls.ca.read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", bundle)
    assert hashed_directory(bundle) is None
    eager = trust.verifying_context(bundle)
    assert eager.cert_store_stats()["x509_ca"] == len(_blocks(CERTIFI)) + 1
    bundles_loaded.clear()
    page = _list(https.endpoint_url, asynchronous=False)
    assert [item.status for item in page.items] == ["Completed"]
    assert bundles_loaded == [bundle]  # the file itself, as httpx loads one
    assert not (tmp_path / "xdg").exists()
    assert not (tmp_path / "tmp").exists()


def test_any_other_value_keeps_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CFINVAL_CA_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    directory = hashed_directory(_bundle(tmp_path))
    assert directory is not None
    assert Path(directory).parent == tmp_path / "xdg" / "cfinval"
