"""The bench's environments: interpreters, venvs, the child processes' environment (a Lambda
execution environment's, or a command line's), the test TLS material and the fake servers.

Only the standard library is used here; the SDKs live in the venvs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = HERE / "workers"

# Credentials the fake accepts and the SDKs sign with (they are not secret: the fake is local).
KEY_ID = "AKIDCFINVALBENCH0001"
SECRET = "cfinval-bench-secret-not-a-real-key"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- interpreters and venvs ---------------------------------------------------------------------


@dataclass
class Env:
    """One side of the comparison: its interpreter and, for a venv, its site-packages."""

    name: str
    python: str
    site_packages: Path | None = None


def find_python(version: str) -> str | None:
    """The newest pyenv install of ``version`` (``3.12``: ``~/.pyenv/versions/3.12.*``, or
    ``PYENV_ROOT``), else ``python3.12`` on the PATH; the interpreter itself, or ``None``."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"

    def key(path: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", path.parts[-3]))

    found = sorted(root.glob(f"{version}.*/bin/python{version}"), key=key)
    candidates = [str(found[-1])] if found else []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        done = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return None


def full_version(python: str) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


class InstallFailed(Exception):
    """pip could not install a requirement; the message is pip's own last lines."""


def make_venv(python: str, path: Path, requirements: Sequence[str], reuse: bool = False) -> Env:
    """A fresh venv of ``python`` (no pip inside, so it holds exactly the closure) with
    ``requirements``, bytecode compiled. ``reuse``: keep an existing venv and reinstall
    ``requirements`` only, without dependencies (quick iterations; not for published numbers).
    """
    venv_python = str(path / "bin" / "python")
    extra: list[str] = []
    if reuse and Path(venv_python).exists():
        extra = ["--no-deps", "--force-reinstall"]
    else:
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            venv_python,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *extra,
            *requirements,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        lines = [
            line.strip()
            for line in done.stderr.splitlines()
            if line.strip() and "is ignored: it is neither a file nor a directory" not in line
        ]
        raise InstallFailed(" ".join(lines[-3:]) or f"pip exited with {done.returncode}")
    site = site_packages(path)
    # Like with like: every side loads compiled bytecode (pip compiles on install; make sure).
    subprocess.run([venv_python, "-m", "compileall", "-q", "-j0", str(site)], check=True)
    return Env(path.name.rsplit("-", 1)[-1], venv_python, site)


def site_packages(venv: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True
    )
    return Path(done.stdout.strip())


# --- the children's environment -----------------------------------------------------------------

# Children run here with this as HOME: an empty directory, so that no AWS config is found and
# ``python -c "import cfinval"`` does not pick up the source tree from the current directory.
HOME = Path(tempfile.gettempdir())  # run.main() points this at bench/_work/home


def set_home(path: Path) -> None:
    global HOME
    HOME = path


def child_env(env: Env, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """A small, fixed environment: credentials and region in ``AWS_*`` variables (as on
    Lambda), an empty ``HOME``, no user configuration. ``extra`` adds variables; a ``None``
    value removes one (a Lambda-shaped run has no ``HOME``)."""
    out = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(HOME),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # Without HOME, both SDKs would look in the passwd entry's home: point them at nothing.
        "AWS_CONFIG_FILE": str(HOME / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(HOME / "no-aws-credentials"),
    }
    for key, value in (extra or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    if env.site_packages is None and os.environ.get("PYTHONPATH"):  # smoke: the source tree
        out["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return out


def lambda_env(python_version: str, tmpdir: Path) -> dict[str, str | None]:
    """What a new AWS Lambda execution environment gives a function, as far as a client can
    tell: no ``HOME`` (Lambda's defined runtime variables do not include it, and nothing but
    ``/tmp`` is writable), an empty ``/tmp`` (here ``TMPDIR``, made afresh for every run), the
    runtime's ``AWS_EXECUTION_ENV`` and a function name."""
    return {
        "HOME": None,
        "TMPDIR": str(tmpdir),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{python_version}",
        "AWS_LAMBDA_FUNCTION_NAME": "cfinval-bench",
    }


# --- TLS material -------------------------------------------------------------------------------


@dataclass
class Tls:
    ca: Path  # the test CA's certificate
    cert: Path  # the server's certificate (127.0.0.1 and localhost), signed by the CA
    key: Path
    bundle: Path  # certifi's bundle with the test CA appended: what every SDK is given


def make_tls(work: Path, cfinval_env: Env) -> Tls:
    """A test CA and a server certificate (RSA 2048, as CloudFront's), made with ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SystemExit("bench/run.py needs the openssl command to make the test certificates")
    where = work / "tls"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    tls = Tls(where / "ca.pem", where / "server.pem", where / "server.key", where / "bundle.pem")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=where)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=cfinval bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    (where / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")  # fmt: skip
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2",
        "-CAcreateserial", "-out", "server.pem", "-extfile", "server.ext")  # fmt: skip
    certifi_bundle = subprocess.run(
        [cfinval_env.python, "-c", "import certifi; print(certifi.where())"],
        check=True,
        capture_output=True,
        text=True,
        env=child_env(cfinval_env),
        cwd=HOME,
    ).stdout.strip()
    tls.bundle.write_bytes(Path(certifi_bundle).read_bytes() + b"\n" + tls.ca.read_bytes())
    return tls


# --- running and measuring ----------------------------------------------------------------------


@dataclass
class Proc:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss: int  # peak resident set, KiB


def spawn(env: Env, argv: Sequence[str], extra: Mapping[str, str | None] | None = None) -> Proc:
    """Run ``python argv`` to completion; its wall time, CPU time and peak RSS."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [env.python, *argv],
            env=child_env(env, extra),
            cwd=HOME,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{env.name} {argv} failed:\n{err.read().decode(errors='replace')}")
    return Proc(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def run_json(
    env: Env, argv: Sequence[str], extra: Mapping[str, str | None] | None = None
) -> dict[str, float]:
    done = subprocess.run(
        [env.python, *argv], env=child_env(env, extra), cwd=HOME, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{env.name} {argv} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def alternate(rounds: int, sides: Sequence[str], measure: Callable[[str], object]) -> list[dict]:
    """``rounds`` rounds, each measuring every side once; the order rotates every round, so each
    side goes first (and last) equally often."""
    out = []
    for r in range(rounds):
        k = r % len(sides)
        order = [*sides[k:], *sides[:k]]
        out.append({side: measure(side) for side in order})
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles (both the value itself for fewer than two)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


# --- the fakes ----------------------------------------------------------------------------------


class FakeServer:
    """The fake CloudFront in its own process (cfinval's environment); HTTPS with ``tls``."""

    def __init__(self, env: Env, work: Path, tls: Tls | None = None) -> None:
        self.body_file = work / "page100.xml"
        argv = [str(WORKERS / "fake_server.py"), str(self.body_file)]
        if tls is not None:
            argv += [str(tls.cert), str(tls.key)]
        self._proc = subprocess.Popen(
            [env.python, *argv],
            env=child_env(env),
            cwd=HOME,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait()
            raise RuntimeError("the fake server did not start")
        info = json.loads(line)
        self.endpoint_url: str = info["endpoint_url"]
        self.tenant: str = info["tenant"]
        #: A second tenant, empty, where the create-one-invalidation runs create theirs.
        self.create_tenant: str = info.get("create_tenant", info["tenant"])
        #: What a client of this fake is given: the bundle with the test CA, for HTTPS.
        self.client_env: dict[str, str | None] = (
            {} if tls is None else {"AWS_CA_BUNDLE": str(tls.bundle)}
        )
        #: The same for a client that only reads OpenSSL's defaults (aiohttp's context).
        self.openssl_env: dict[str, str | None] = (
            {} if tls is None else {"SSL_CERT_FILE": str(tls.bundle)}
        )

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
