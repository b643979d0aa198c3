"""cfinval vs boto3 (and aiobotocore), side by side in one run, against loopback fakes.

    python bench/run.py                 # what `make bench` runs; writes bench/RESULTS.md
    python bench/run.py --quick         # fewer rounds, fewer pages: a sanity check
    python bench/run.py --smoke --out X # tiny counts, current interpreter, no venvs (the test)

What is measured (see RESULTS.md for the method in prose):

1. cold start to first page over HTTPS: a fresh process imports the SDK, builds a client and
   lists one 100-item page from the fake (wall and CPU time of the whole process, alternating
   runs); the same over plain HTTP as a secondary row;
2. the peak RSS of that process;
3. per-page CPU in process: build + sign + parse a 100-item page, the network replaced by a
   canned response (httpx.MockTransport / a botocore ``before-send`` hook);
4. throughput over HTTPS: 1,000 pages from the fake, sequentially and from 32 threads (cfinval's
   Client vs boto3), and 32 in flight on asyncio (cfinval's AsyncClient vs aiobotocore); wall
   time and client CPU per request;
5. installed size of each dependency closure (fresh venvs) and the Lambda layer zip.

HTTPS is the headline: a test CA and a server certificate are made at bench time (``openssl``),
the CA is appended to a copy of certifi's bundle, and every SDK is given that bundle with
``AWS_CA_BUNDLE``. The fakes answer with TCP_NODELAY, so no client waits for a delayed ACK.

All SDKs run on the same interpreter, from compiled bytecode, in venvs created afresh under
``bench/_work/`` (git-ignored; aiobotocore gets its own, since it pins its botocore). The fakes
run in their own processes, so no client pays for them. Ratios are peer / cfinval, taken per
round and reported as the median of those ratios.

Only the standard library is used here; the SDKs live in the venvs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = HERE / "workers"
sys.path.insert(0, str(HERE))

import layer  # noqa: E402  (bench/layer.py, next to this file)
from report import COLD_RATIOS, LOAD_ROWS, machine, write_results  # noqa: E402

# Credentials the fake accepts and the SDKs sign with (they are not secret: the fake is local).
KEY_ID = "AKIDCFINVALBENCH0001"
SECRET = "cfinval-bench-secret-not-a-real-key"


@dataclass
class Settings:
    cold_rounds: int = 15
    import_rounds: int = 15
    per_page_rounds: int = 3
    per_page_calls: dict[str, int] = field(default_factory=lambda: {"cfinval": 400, "boto3": 100})
    pages: int = 1000
    load_rounds: int = 1
    footprint: bool = True
    warm_up: bool = True


QUICK = Settings(
    cold_rounds=5,
    import_rounds=5,
    per_page_rounds=1,
    per_page_calls={"cfinval": 200, "boto3": 50},
    pages=300,
    footprint=False,
)

SMOKE = Settings(
    cold_rounds=1,
    import_rounds=1,
    per_page_rounds=1,
    per_page_calls={"cfinval": 5, "boto3": 5},
    pages=20,
    load_rounds=1,
    footprint=False,
    warm_up=False,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- environments -------------------------------------------------------------------------------


@dataclass
class Env:
    """One side of the comparison: its interpreter and, for a venv, its site-packages."""

    name: str
    python: str
    site_packages: Path | None = None


def _venv(path: Path, requirements: Sequence[str], reuse: bool = False) -> Env:
    """A fresh venv (no pip inside, so it holds exactly the closure) with ``requirements``.

    ``reuse``: keep an existing venv and only reinstall ``requirements`` without dependencies
    (quick iterations while optimising; not for published numbers).
    """
    python = str(path / "bin" / "python")
    extra: list[str] = []
    if reuse and Path(python).exists():
        extra = ["--no-deps", "--force-reinstall"]
    else:
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *extra,
            *requirements,
        ],
        check=True,
        stderr=subprocess.DEVNULL if os.environ.get("BENCH_QUIET_PIP", "1") == "1" else None,
    )
    site = _site(path)
    # Like with like: both sides load compiled bytecode (pip compiles on install; make sure).
    subprocess.run([python, "-m", "compileall", "-q", "-j0", str(site)], check=True)
    return Env(path.name.removeprefix("venv-"), python, site)


def _site(venv: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True
    )
    return Path(done.stdout.strip())


def _versions(env: Env, names: Sequence[str]) -> dict[str, str]:
    code = (
        "import json, sys, importlib.metadata as m\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    done = subprocess.run(
        [env.python, "-c", code, *names],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(env),
        cwd=HOME,
    )
    return json.loads(done.stdout)


# Children run here with this as HOME: an empty directory, so that no AWS config is found and
# ``python -c "import cfinval"`` does not pick up the source tree from the current directory.
HOME = Path(tempfile.gettempdir())  # main() points this at bench/_work/home


def child_env(env: Env, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A small, fixed environment: credentials and region as on Lambda, no user config."""
    out = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(HOME),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **(extra or {}),
    }
    if env.site_packages is None and os.environ.get("PYTHONPATH"):  # smoke: the source tree
        out["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return out


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


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Proc:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss: int  # peak resident set, KiB


def spawn(env: Env, argv: Sequence[str], extra: Mapping[str, str] | None = None) -> Proc:
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
    env: Env, argv: Sequence[str], extra: Mapping[str, str] | None = None
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
        #: What a client of this fake is given: the bundle with the test CA, for HTTPS.
        self.client_env: dict[str, str] = {} if tls is None else {"AWS_CA_BUNDLE": str(tls.bundle)}

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# --- the measurements ---------------------------------------------------------------------------


def measure_import(envs: dict[str, Env], rounds: int) -> dict[str, float]:
    """Medians over fresh processes of what ``import cfinval`` adds to its dependencies, timed
    inside the process (``workers/import_cost.py``): start-up and exit are the same for both and
    would only add noise to a difference of two process times."""
    runs = [run_json(envs["cfinval"], [str(WORKERS / "import_cost.py")]) for _ in range(rounds)]
    return {key: median([r[key] for r in runs]) for key in runs[0]}


#: Cold-start runs: side -> (environment, script, fake, clear cfinval's CA cache first).
COLD = {
    "cfinval": ("cfinval", "cold_cfinval.py", "https", False),
    "cfinval_new": ("cfinval", "cold_cfinval.py", "https", True),
    "boto3": ("boto3", "cold_boto3.py", "https", False),
    "floor": ("cfinval", "cold_floor.py", "https", False),
    "cfinval_http": ("cfinval", "cold_cfinval.py", "http", False),
    "boto3_http": ("boto3", "cold_boto3.py", "http", False),
}


def measure_cold(
    envs: dict[str, Env], fakes: dict[str, FakeServer], s: Settings
) -> dict[str, object]:
    def one(side: str) -> Proc:
        env, script, scheme, fresh = COLD[side]
        fake = fakes[scheme]
        if fresh:  # as on a new machine, or a new Lambda execution environment
            shutil.rmtree(HOME / ".cache" / "cfinval", ignore_errors=True)
        argv = [str(WORKERS / script), fake.endpoint_url, fake.tenant]
        return spawn(envs[env], argv, fake.client_env)

    if s.warm_up:  # the page cache, not the interpreter: every measured run is a fresh process
        for side in COLD:
            one(side)
    runs = alternate(s.cold_rounds, list(COLD), one)
    out: dict[str, object] = {}
    for side in COLD:
        out[side] = {
            "wall_ms": median([r[side].wall for r in runs]) * 1000,
            "cpu_ms": median([r[side].cpu for r in runs]) * 1000,
            "rss_mib": median([r[side].rss for r in runs]) / 1024,
        }
    for key, (peer, side) in COLD_RATIOS.items():
        out[f"ratio_{key}"] = {
            "wall": median([r[peer].wall / r[side].wall for r in runs]),
            "cpu": median([r[peer].cpu / r[side].cpu for r in runs]),
            "rss": median([r[peer].rss / r[side].rss for r in runs]),
        }
    return out


def measure_per_page(envs: dict[str, Env], fake: FakeServer, s: Settings) -> dict[str, float]:
    def one(side: str) -> float:
        script = WORKERS / f"inproc_{side}.py"
        argv = [str(script), "per_page", str(fake.body_file), str(s.per_page_calls[side])]
        return run_json(envs[side], argv)["cpu_per_page"]

    runs = alternate(s.per_page_rounds, ["cfinval", "boto3"], one)
    return {
        "cfinval_us": median([r["cfinval"] for r in runs]) * 1e6,
        "boto3_us": median([r["boto3"] for r in runs]) * 1e6,
        "ratio": median([r["boto3"] / r["cfinval"] for r in runs]),
    }


def measure_load(
    envs: dict[str, Env], fake: FakeServer, s: Settings, rows: Sequence[str]
) -> dict[str, object]:
    out: dict[str, object] = {}
    for row in rows:
        mode, peer, peer_mode = LOAD_ROWS[row]
        if peer not in envs:
            continue
        sides = {"cfinval": ("cfinval", mode), peer: (peer, peer_mode)}

        def one(side: str, sides: dict[str, tuple[str, str]] = sides) -> dict[str, float]:
            env, worker_mode = sides[side]
            argv = [
                str(WORKERS / f"inproc_{env}.py"),
                worker_mode,
                fake.endpoint_url,
                fake.tenant,
                str(s.pages),
            ]
            return run_json(envs[env], argv, fake.client_env)

        runs = alternate(s.load_rounds, list(sides), one)
        out[row] = {
            "peer": peer,
            "cfinval_wall_s": median([r["cfinval"]["wall"] for r in runs]),
            "peer_wall_s": median([r[peer]["wall"] for r in runs]),
            "cfinval_cpu_us": median([r["cfinval"]["cpu"] for r in runs]) / s.pages * 1e6,
            "peer_cpu_us": median([r[peer]["cpu"] for r in runs]) / s.pages * 1e6,
            "ratio_wall": median([r[peer]["wall"] / r["cfinval"]["wall"] for r in runs]),
            "ratio_cpu": median([r[peer]["cpu"] / r["cfinval"]["cpu"] for r in runs]),
        }
    return out


def tree_size(path: Path, bytecode: bool = True) -> tuple[int, int]:
    """(bytes, files) of the files under ``path`` (without ``__pycache__`` if not ``bytecode``)."""
    total = files = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink() and (bytecode or "__pycache__" not in p.parts):
            total += p.stat().st_size
            files += 1
    return total, files


def measure_footprint(envs: dict[str, Env], work: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for side, env in envs.items():
        assert env.site_packages is not None
        size, files = tree_size(env.site_packages)
        source, _ = tree_size(env.site_packages, bytecode=False)
        out[side] = {"bytes": size, "files": files, "source_bytes": source}
    for side, spec in (("cfinval", str(ROOT)), ("boto3", "boto3")):
        built = layer.build([spec], work / f"layer-{side}.zip", work_dir=work / f"layer-{side}")
        out[f"layer_{side}"] = {"bytes": built.zip_bytes, "files": built.files}
    return out


# --- main ---------------------------------------------------------------------------------------


SECTIONS = "import,cold,per_page,load,footprint"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny counts, current interpreter for every side, no venvs",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and pages (a sanity check)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument("--only", default=SECTIONS, help="comma-separated subset of: %(default)s")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the venvs of an earlier run, reinstalling cfinval only",
    )
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else QUICK if args.quick else Settings()
    only = set(args.only.split(","))
    started = time.perf_counter()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    global HOME
    HOME = work / "home"
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()

    envs: dict[str, Env]
    if args.smoke:
        envs = {"cfinval": Env("cfinval", sys.executable), "boto3": Env("boto3", sys.executable)}
        if importlib.util.find_spec("aiobotocore") is not None:
            envs["aiobotocore"] = Env("aiobotocore", sys.executable)
    else:
        log("creating fresh venvs for cfinval, boto3 and aiobotocore (pip install, compileall)")

        def peer(name: str) -> Env:
            path = work / f"venv-{name}"
            if args.reuse and (path / "bin" / "python").exists():
                return Env(name, str(path / "bin" / "python"), _site(path))
            return _venv(path, [name])

        envs = {
            "cfinval": _venv(work / "venv-cfinval", [str(ROOT)], reuse=args.reuse),
            "boto3": peer("boto3"),
        }
        if "load" in only or "footprint" in only:
            envs["aiobotocore"] = peer("aiobotocore")
    peers = {
        "boto3": ["boto3", "botocore", "urllib3", "s3transfer"],
        "aiobotocore": ["aiobotocore", "botocore", "aiohttp"],
    }
    results: dict[str, object] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": {
            "cfinval": _versions(
                envs["cfinval"],
                ["cfinval", "httpx", "httpcore", "h11", "anyio", "xmltodict", "attrs", "certifi"],
            ),
            **{name: _versions(envs[name], names) for name, names in peers.items() if name in envs},
        },
    }
    tls = make_tls(work, envs["cfinval"])
    log(f"environments ready ({time.perf_counter() - started:.0f} s)")

    def section(key: str, title: str, measure: Callable[[], object]) -> None:
        if key in only:
            log(title)
            begun = time.perf_counter()
            results[key] = measure()
            log(f"  ... {time.perf_counter() - begun:.0f} s")

    fakes = {"https": FakeServer(envs["cfinval"], work, tls)}
    try:
        fakes["http"] = FakeServer(envs["cfinval"], work)
        section(
            "import",
            "import time of cfinval over its dependencies",
            lambda: measure_import(envs, settings.import_rounds),
        )
        section("cold", "cold start to first page", lambda: measure_cold(envs, fakes, settings))
        section(
            "per_page",
            "CPU per page, in process",
            lambda: measure_per_page(envs, fakes["https"], settings),
        )
        section(
            "load",
            f"load: {settings.pages} pages per run",
            lambda: measure_load(envs, fakes["https"], settings, list(LOAD_ROWS)),
        )
    finally:
        for fake in fakes.values():
            fake.close()
    if settings.footprint:
        section(
            "footprint",
            "installed footprint and the Lambda layers",
            lambda: measure_footprint(envs, work),
        )
    results["load_average_at_end"] = machine()["load"]
    seconds = time.perf_counter() - started
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    table = write_results(args.out, results, settings, mode, seconds)
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(table)
    log(f"wrote {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
