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
import platform
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

# Credentials the fake accepts and the SDKs sign with (they are not secret: the fake is local).
KEY_ID = "AKIDCFINVALBENCH0001"
SECRET = "cfinval-bench-secret-not-a-real-key"

TARGETS = {  # peer / cfinval, at least
    "cold_wall": 2.3,
    "cold_cpu": 2.3,
    "rss": 1.75,
    "per_page": 5.0,
    "async_cpu": 2.5,
    "closure": 5.0,
}
IMPORT_BUDGET_MS = 15.0


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
#: Each cold ratio: (peer, side).
COLD_RATIOS = {
    "cfinval": ("boto3", "cfinval"),
    "cfinval_new": ("boto3", "cfinval_new"),
    "floor": ("boto3", "floor"),
    "http": ("boto3_http", "cfinval_http"),
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


#: Load rows: row -> (cfinval's worker mode, the peer, the peer's worker mode).
LOAD_ROWS = {
    "sequential": ("sync", "boto3", "sync"),
    "32 threads": ("threads", "boto3", "threads"),
    "32 in flight": ("async", "aiobotocore", "async"),
}
LOAD_LABELS = {
    "sequential": "sequential (Client vs boto3)",
    "32 threads": "32 threads sharing a client (Client vs boto3)",
    "32 in flight": "32 in flight on asyncio (AsyncClient vs aiobotocore)",
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


# --- report -------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": mem,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _mark(ratio: float, target: float) -> str:
    return "yes" if ratio >= target else f"**no** ({ratio / target:.0%} of target)"


def _row(
    label: str, peer: str, cf: str, other: str, ratio: float, target: float | None = None
) -> str:
    met = f"≥ {target}x | {_mark(ratio, target)}" if target is not None else " | "
    return f"| {label} | {cf} | {peer} | {other} | {ratio:.2f}x | {met} |"


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def _mib(value: float) -> str:
    return f"{value / 1024 / 1024:.1f} MiB"


def render(r: dict, s: Settings) -> str:
    """The table of medians and ratios, then the import and floor lines."""
    rows = [
        "| measurement | cfinval | peer | peer's | peer / cfinval | target | met |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    add = rows.append
    if "cold" in r:
        c = r["cold"]
        for key, label in (
            ("cfinval", "cold start to first page, HTTPS"),
            ("http", "cold start to first page, plain HTTP"),
            ("cfinval_new", "cold start to first page, HTTPS, CA cache not yet built"),
        ):
            peer, side = COLD_RATIOS[key]
            mine, theirs, x = c[side], c[peer], c[f"ratio_{key}"]
            headline = key == "cfinval"
            add(
                _row(
                    f"{label}: wall",
                    "boto3",
                    _ms(mine["wall_ms"]),
                    _ms(theirs["wall_ms"]),
                    x["wall"],
                    TARGETS["cold_wall"] if headline else None,
                )
            )
            add(
                _row(
                    f"{label}: CPU",
                    "boto3",
                    _ms(mine["cpu_ms"]),
                    _ms(theirs["cpu_ms"]),
                    x["cpu"],
                    TARGETS["cold_cpu"] if headline else None,
                )
            )
            add(
                _row(
                    f"{label}: peak RSS",
                    "boto3",
                    f"{mine['rss_mib']:.1f} MiB",
                    f"{theirs['rss_mib']:.1f} MiB",
                    x["rss"],
                    TARGETS["rss"] if headline else None,
                )
            )
    if "per_page" in r:
        p = r["per_page"]
        add(
            _row(
                "CPU per 100-item page, in process (build, sign, parse)",
                "boto3",
                f"{p['cfinval_us']:.0f} µs",
                f"{p['boto3_us']:.0f} µs",
                p["ratio"],
                TARGETS["per_page"],
            )
        )
    for row, v in r.get("load", {}).items():
        label = f"{s.pages:,} pages over HTTPS, {LOAD_LABELS[row]}"
        add(
            _row(
                f"{label}: wall",
                v["peer"],
                f"{v['cfinval_wall_s']:.2f} s",
                f"{v['peer_wall_s']:.2f} s",
                v["ratio_wall"],
            )
        )
        add(
            _row(
                f"{label}: client CPU per page",
                v["peer"],
                f"{v['cfinval_cpu_us']:.0f} µs",
                f"{v['peer_cpu_us']:.0f} µs",
                v["ratio_cpu"],
                TARGETS["async_cpu"] if row == "32 in flight" else None,
            )
        )
    if "footprint" in r:
        f = r["footprint"]
        mine = f["cfinval"]
        for peer in ("boto3", "aiobotocore"):
            if peer not in f:
                continue
            theirs = f[peer]
            add(
                _row(
                    "installed closure (fresh venv, with bytecode)",
                    peer,
                    _mib(mine["bytes"]),
                    _mib(theirs["bytes"]),
                    theirs["bytes"] / mine["bytes"],
                    TARGETS["closure"] if peer == "boto3" else None,
                )
            )
        theirs = f["boto3"]
        add(
            _row(
                "installed closure, without bytecode",
                "boto3",
                _mib(mine["source_bytes"]),
                _mib(theirs["source_bytes"]),
                theirs["source_bytes"] / mine["source_bytes"],
            )
        )
        add(
            _row(
                "installed closure, files",
                "boto3",
                f"{mine['files']:,}",
                f"{theirs['files']:,}",
                theirs["files"] / mine["files"],
            )
        )
        add(
            _row(
                "Lambda layer zip (`make layer`)",
                "boto3",
                f"{f['layer_cfinval']['bytes'] / 1024 / 1024:.2f} MiB",
                f"{f['layer_boto3']['bytes'] / 1024 / 1024:.2f} MiB",
                f["layer_boto3"]["bytes"] / f["layer_cfinval"]["bytes"],
            )
        )
    notes = []
    if "import" in r:
        i = r["import"]
        verdict = "met" if i["added_ms"] <= IMPORT_BUDGET_MS else "**not met**"
        notes.append(
            f"- `import cfinval` adds **{i['added_ms']:.1f} ms** wall ({i['added_cpu_ms']:.1f} ms "
            f"CPU) to `import httpx, xmltodict, attrs` (which takes {i['deps_ms']:.0f} ms); "
            f"median of {s.import_rounds} fresh processes; budget {IMPORT_BUDGET_MS:.0f} ms: "
            f"{verdict}."
        )
    if "cold" in r:
        f, x = r["cold"]["floor"], r["cold"]["ratio_floor"]
        notes.append(
            f"- The floor of this design (`bench/workers/cold_floor.py`: import httpx, attrs and "
            f"xmltodict, load the CA bundle, sign one GET by hand, parse the page with "
            f"xmltodict), over HTTPS: {f['wall_ms']:.0f} ms wall, {f['cpu_ms']:.0f} ms CPU, "
            f"{f['rss_mib']:.1f} MiB peak RSS; boto3 / floor = {x['wall']:.2f}x wall, "
            f"{x['cpu']:.2f}x CPU, {x['rss']:.2f}x RSS."
        )
    for row, (_, peer, _) in LOAD_ROWS.items():
        if "load" in r and row not in r["load"]:
            notes.append(f"- {LOAD_LABELS[row]}: not measured ({peer} is not installed here).")
    return "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def write_results(path: Path, r: dict[str, object], s: Settings, mode: str, seconds: float) -> str:
    m = r["machine"]
    v = r["versions"]
    body = render(r, s)
    calls = " / ".join(f"{n} ({side})" for side, n in s.per_page_calls.items())
    banner = {
        "smoke": "**SMOKE RUN: tiny iteration counts, not a measurement.**\n\n",
        "quick": "**QUICK RUN (`--quick`): fewer rounds and pages than `make bench`.**\n\n",
    }.get(mode, "")
    end_load = r.get("load_average_at_end", "?")
    versions = "\n".join(
        f"**{side} side:** {', '.join(f'{k} {x}' for k, x in v[side].items())}." for side in v
    )
    text = f"""# cfinval vs boto3 and aiobotocore: benchmark results

{banner}Run by `make bench` (`bench/run.py`) on {r["date"]}, in {seconds:.0f} s. Ratios are
peer / cfinval (higher is better for cfinval), the median of per-round ratios.

**Machine:** {m["cpu"]}; {m["memory"]}; {m["os"]};
{m["python"]} (every side, same interpreter); load average {m["load"]} at the start,
{end_load} at the end (other work on the machine inflates wall times and compresses ratios).
{versions}

**What the ratios include.** Everything here is client cost on loopback: the fake runs on the
same machine and answers at once. A real call to CloudFront adds the network and the service's
own latency (tens of milliseconds) to both sides alike, so against the real service the
wall-time ratios are smaller; CPU and memory are the client's own and carry over as they are.

{body}
## Where the rest goes (profiles, cProfile and `-X importtime`)

- **A page** (build, sign, parse): xmltodict's handler is over half of cfinval's CPU;
  httpx's request and response objects most of the rest.
- **32 in flight on asyncio**: httpcore 1.0's connection pool re-scans every connection on each
  request and each response (it checks each idle socket for readability, through anyio, and
  counts idle connections once per idle connection), about a fifth of the client's CPU at 32
  connections and growing with the number in flight; anyio's TLS stream and xmltodict most of
  the rest.
- **Cold start**: importing httpx, xmltodict, attrs (and httpcore at the first request) is most
  of it; the floor above measures what those alone cost. TLS adds about 1.1 MiB of peak RSS
  (the context, one root, the handshake; loading all of certifi's roots would add 0.7 MiB
  more). cfinval's own modules are about 1.2 MiB of it and 9 ms: every credential provider
  (SSO, aws login, roles, container and instance metadata: some 0.2 MiB of code objects) and
  the async driver are imported whether or not the first request needs them; and the installed
  closure counts cfinval's 1.1 MiB (0.45 MiB of source, the rest bytecode) and the README in
  its METADATA (50 KB).

## Method

- **Same run, same endpoints.** Every SDK talks to the same fake CloudFront (`cfinval.testing`,
  stdlib HTTP server on 127.0.0.1, in its own process) that verifies every request's SigV4
  signature; all sign with the same credentials for `us-east-1`. The fake sets TCP_NODELAY, so
  no client waits for a delayed ACK that a real server would not impose.
- **HTTPS, with a full trust store.** The headline endpoint is `https://127.0.0.1`: a test CA and
  a server certificate (RSA 2048) are made with `openssl` at bench time, the CA is appended to a
  copy of certifi's bundle (some 140 roots), and every SDK is given that bundle with
  `AWS_CA_BUNDLE`. boto3 and aiobotocore load it into their TLS context as they always do;
  cfinval turns it, once, into an OpenSSL hashed directory in its cache
  (`~/.cache/cfinval`, or `/tmp/cfinval-<uid>` where there is no home) and lets OpenSSL read
  the one root the handshake needs. The row "CA cache not yet built" deletes that cache before
  each run: what the first invocation in a new AWS Lambda execution environment pays (its
  `/tmp` starts empty). The plain `http://` row is a second fake without TLS.
- **Like with like.** Each SDK is installed (non-editable) into a fresh venv under
  `bench/_work/` on the same interpreter (aiobotocore in its own: it pins its botocore),
  bytecode compiled (`compileall`), and every child process gets the same small environment:
  credentials and region in `AWS_*` variables, as on Lambda, an empty `HOME`,
  `PYTHONDONTWRITEBYTECODE=1`.
- **Import**: `bench/workers/import_cost.py` times `import httpx, xmltodict, attrs` and then
  `import cfinval` inside each of {s.import_rounds} fresh processes (medians).
- **Cold start** ({s.cold_rounds} rounds after one unmeasured warm-up): a fresh process runs
  `bench/workers/cold_<sdk>.py`: import, build a client (credentials from the environment),
  list one 100-item page. Wall time is measured around the process by the runner; CPU
  (user + system) and peak RSS come from `wait4()`. The order of the scripts rotates every
  round. `cold_floor.py` is the floor of this design (its three dependencies and nothing else,
  the CA bundle loaded as httpx loads it); its ratio moves with the machine's load, not with
  cfinval, so compare cfinval's ratio with the floor's of the same run.
- **CPU per page** ({s.per_page_rounds} rounds of {calls} calls, after a warm-up):
  `time.process_time()` around
  `list_invalidations_for_distribution_tenant(Id=..., MaxItems=100)`, the network replaced by the
  canned 100-item page (cfinval: `httpx.MockTransport`; boto3: a `before-send` hook returning an
  `AWSResponse`). This is the SDK's own work: build, sign, parse into objects (cfinval parses
  with xmltodict).
- **Load** ({s.pages:,} pages per run, {s.load_rounds} round(s), over HTTPS): one client, one
  warm-up request, then the pages. "Client CPU per page" is the client process's CPU time (all
  threads) divided by the page count; the fake's CPU is not in it. Sequential: one page after
  the other. 32 threads: a pool of 32 threads sharing one client (boto3 with
  `Config(max_pool_connections=32)`). 32 in flight: 32 asyncio tasks sharing one client
  (aiobotocore with its default aiohttp backend and `AioConfig(max_pool_connections=32)`).
  cfinval uses its defaults.
- **Footprint:** every file under the venv's site-packages (the venvs hold no pip), bytecode
  included. The Lambda layers are built by `bench/layer.py` (`make layer`) the same way for both.
  The Lambda Python runtime bundles a boto3 of its own; the boto3 layer is what you ship when
  you pin your boto3 version in your deployment, as AWS suggests for production.
"""
    path.write_text(text)
    return body


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
