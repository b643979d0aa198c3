"""A CA bundle as an OpenSSL hashed directory: OpenSSL's own hashes, the same certificates, a
private cache, and the file loaded as before whenever the directory cannot be trusted."""

from __future__ import annotations

import os
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import certifi
import pytest

from cfinval._drivers import trust
from cfinval._drivers.trust import hashed_directory, subject_hash


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
    one = hashed_directory(_bundle(tmp_path, b"".join(block for block, _ in blocks[:3])))
    two = hashed_directory(_bundle(tmp_path, b"".join(block for block, _ in blocks[3:5])))
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
