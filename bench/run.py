"""cfinval vs boto3, side by side in one run, against the same loopback fake CloudFront.

    python bench/run.py                 # what `make bench` runs; writes bench/RESULTS.md
    python bench/run.py --smoke --out X # tiny counts, current interpreter, no venvs (the test)

What is measured (see RESULTS.md for the method in prose):

1. cold start to first page: a fresh process imports the SDK, builds a client and lists one
   100-item page from the fake (wall and CPU time of the whole process, alternating runs);
2. the peak RSS of that process;
3. per-page CPU in process: build + sign + parse a 100-item page, the network replaced by a
   canned response (httpx.MockTransport / a botocore ``before-send`` hook);
4. throughput: 2,000 pages from the fake, sequentially, and 32 in flight (cfinval on asyncio,
   boto3 on a pool of 32 threads); wall time and client CPU per request;
5. installed size of each dependency closure (fresh venvs) and the Lambda layer zip.

Both SDKs run on the same interpreter, from compiled bytecode, in venvs created afresh under
``bench/_work/`` (git-ignored). The fake runs in its own process, so neither client pays for it.
Ratios are boto3 / cfinval, taken per round and reported as the median of those ratios.

Only the standard library is used here; the SDKs live in the venvs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = HERE / "workers"
sys.path.insert(0, str(HERE))

import layer  # noqa: E402  (bench/layer.py, next to this file)

# Credentials the fake accepts and both SDKs sign with (they are not secret: the fake is local).
KEY_ID = "AKIDCFINVALBENCH0001"
SECRET = "cfinval-bench-secret-not-a-real-key"

TARGETS = {  # boto3 / cfinval, at least
    "cold_wall": 2.4,
    "rss": 1.75,
    "per_page": 6.0,
    "load_cpu": 3.0,
    "closure": 5.0,
}
IMPORT_BUDGET_MS = 15.0


@dataclass
class Settings:
    cold_rounds: int = 15
    import_rounds: int = 15
    per_page_rounds: int = 3
    per_page_calls: dict[str, int] = field(default_factory=lambda: {"cfinval": 400, "boto3": 100})
    pages: int = 2000
    load_rounds: int = 1
    footprint: bool = True
    warm_up: bool = True


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


def child_env(env: Env) -> dict[str, str]:
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
    }
    if env.site_packages is None and os.environ.get("PYTHONPATH"):  # smoke: the source tree
        out["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return out


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Proc:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss: int  # peak resident set, KiB


def spawn(env: Env, argv: Sequence[str]) -> Proc:
    """Run ``python argv`` to completion; its wall time, CPU time and peak RSS."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [env.python, *argv],
            env=child_env(env),
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


def run_json(env: Env, argv: Sequence[str]) -> dict[str, float]:
    done = subprocess.run(
        [env.python, *argv], env=child_env(env), cwd=HOME, capture_output=True, text=True
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


# --- the fake -----------------------------------------------------------------------------------


class FakeServer:
    """The fake CloudFront in its own process (cfinval's environment)."""

    def __init__(self, env: Env, work: Path) -> None:
        self.body_file = work / "page100.xml"
        self._proc = subprocess.Popen(
            [env.python, str(WORKERS / "fake_server.py"), str(self.body_file)],
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


def measure_cold(envs: dict[str, Env], fake: FakeServer, s: Settings) -> dict[str, object]:
    scripts = {
        "cfinval": (envs["cfinval"], "cold_cfinval.py"),
        "boto3": (envs["boto3"], "cold_boto3.py"),
        "floor": (envs["cfinval"], "cold_floor.py"),
    }

    def one(side: str) -> Proc:
        env, script = scripts[side]
        return spawn(env, [str(WORKERS / script), fake.endpoint_url, fake.tenant])

    if s.warm_up:  # the page cache, not the interpreter: every measured run is a fresh process
        for side in scripts:
            one(side)
    runs = alternate(s.cold_rounds, list(scripts), one)
    out: dict[str, object] = {}
    for side in scripts:
        out[side] = {
            "wall_ms": median([r[side].wall for r in runs]) * 1000,
            "cpu_ms": median([r[side].cpu for r in runs]) * 1000,
            "rss_mib": median([r[side].rss for r in runs]) / 1024,
        }
    for side in ("cfinval", "floor"):
        out[f"ratio_{side}"] = {
            "wall": median([r["boto3"].wall / r[side].wall for r in runs]),
            "cpu": median([r["boto3"].cpu / r[side].cpu for r in runs]),
            "rss": median([r["boto3"].rss / r[side].rss for r in runs]),
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


LOAD_MODES = {  # row: {side: worker mode}
    "sequential": {"cfinval": "sync", "boto3": "sync"},
    "32 in flight": {"cfinval": "async", "boto3": "threads"},
}
# Not run by default (it costs a minute): cfinval's sync Client on the same 32-thread pool.
THREAD_MODES = {"32 threads": {"cfinval": "threads", "boto3": "threads"}}


def measure_load(
    envs: dict[str, Env], fake: FakeServer, s: Settings, rows: dict[str, dict[str, str]]
) -> dict[str, object]:
    out: dict[str, object] = {}
    for row, modes in rows.items():

        def one(side: str, modes: dict[str, str] = modes) -> dict[str, float]:
            argv = [
                str(WORKERS / f"inproc_{side}.py"),
                modes[side],
                fake.endpoint_url,
                fake.tenant,
                str(s.pages),
            ]
            return run_json(envs[side], argv)

        runs = alternate(s.load_rounds, ["cfinval", "boto3"], one)
        out[row] = {
            "modes": modes,
            "cfinval_wall_s": median([r["cfinval"]["wall"] for r in runs]),
            "boto3_wall_s": median([r["boto3"]["wall"] for r in runs]),
            "cfinval_cpu_us": median([r["cfinval"]["cpu"] for r in runs]) / s.pages * 1e6,
            "boto3_cpu_us": median([r["boto3"]["cpu"] for r in runs]) / s.pages * 1e6,
            "ratio_wall": median([r["boto3"]["wall"] / r["cfinval"]["wall"] for r in runs]),
            "ratio_cpu": median([r["boto3"]["cpu"] / r["cfinval"]["cpu"] for r in runs]),
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
    out["ratio"] = out["boto3"]["bytes"] / out["cfinval"]["bytes"]  # type: ignore[index]
    out["ratio_layer"] = (
        out["layer_boto3"]["bytes"] / out["layer_cfinval"]["bytes"]  # type: ignore[index]
    )
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


def _row(label: str, cf: str, bo: str, ratio: float, target: float | None = None) -> str:
    met = f"≥ {target}x | {_mark(ratio, target)}" if target is not None else " | "
    return f"| {label} | {cf} | {bo} | {ratio:.2f}x | {met} |"


LOAD_LABELS = {
    "sequential": "sequential",
    "32 in flight": "32 in flight (cfinval asyncio, boto3 32 threads)",
    "32 threads": "32 threads, both",
}


def render(r: dict, s: Settings) -> str:
    """The table of medians and ratios, then the import and floor lines."""
    rows = [
        "| measurement | cfinval | boto3 | boto3 / cfinval | target | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    add = rows.append
    if "cold" in r:
        c, b, x = r["cold"]["cfinval"], r["cold"]["boto3"], r["cold"]["ratio_cfinval"]
        add(
            _row(
                "cold start to first page, wall",
                f"{c['wall_ms']:.0f} ms",
                f"{b['wall_ms']:.0f} ms",
                x["wall"],
                TARGETS["cold_wall"],
            )
        )
        add(
            _row(
                "cold start to first page, CPU",
                f"{c['cpu_ms']:.0f} ms",
                f"{b['cpu_ms']:.0f} ms",
                x["cpu"],
            )
        )
        add(
            _row(
                "peak RSS of that process",
                f"{c['rss_mib']:.1f} MiB",
                f"{b['rss_mib']:.1f} MiB",
                x["rss"],
                TARGETS["rss"],
            )
        )
    if "per_page" in r:
        p = r["per_page"]
        add(
            _row(
                "CPU per 100-item page, in process",
                f"{p['cfinval_us']:.0f} µs",
                f"{p['boto3_us']:.0f} µs",
                p["ratio"],
                TARGETS["per_page"],
            )
        )
    for row, v in r.get("load", {}).items():
        label = f"{s.pages:,} pages, {LOAD_LABELS[row]}"
        add(
            _row(
                f"{label}: wall",
                f"{v['cfinval_wall_s']:.2f} s",
                f"{v['boto3_wall_s']:.2f} s",
                v["ratio_wall"],
            )
        )
        add(
            _row(
                f"{label}: client CPU per request",
                f"{v['cfinval_cpu_us']:.0f} µs",
                f"{v['boto3_cpu_us']:.0f} µs",
                v["ratio_cpu"],
                TARGETS["load_cpu"] if row == "32 in flight" else None,
            )
        )
    if "footprint" in r:
        f = r["footprint"]
        mib = 1024 * 1024
        add(
            _row(
                "installed closure (fresh venv, with bytecode)",
                f"{f['cfinval']['bytes'] / mib:.1f} MiB",
                f"{f['boto3']['bytes'] / mib:.1f} MiB",
                f["ratio"],
                TARGETS["closure"],
            )
        )
        add(
            _row(
                "installed closure, without bytecode",
                f"{f['cfinval']['source_bytes'] / mib:.1f} MiB",
                f"{f['boto3']['source_bytes'] / mib:.1f} MiB",
                f["boto3"]["source_bytes"] / f["cfinval"]["source_bytes"],
            )
        )
        add(
            _row(
                "installed closure, files",
                f"{f['cfinval']['files']:,}",
                f"{f['boto3']['files']:,}",
                f["boto3"]["files"] / f["cfinval"]["files"],
            )
        )
        add(
            _row(
                "Lambda layer zip (`make layer`)",
                f"{f['layer_cfinval']['bytes'] / mib:.2f} MiB",
                f"{f['layer_boto3']['bytes'] / mib:.2f} MiB",
                f["ratio_layer"],
            )
        )
    notes = [""]
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
            f"xmltodict, sign one GET by hand, parse the page): {f['wall_ms']:.0f} ms wall, "
            f"{f['rss_mib']:.1f} MiB peak RSS; boto3 / floor = {x['wall']:.2f}x wall, "
            f"{x['rss']:.2f}x RSS."
        )
    return "\n".join(rows) + "\n\n" + "\n".join(notes[1:]) + "\n"


def write_results(
    path: Path, r: dict[str, object], s: Settings, smoke: bool, seconds: float
) -> str:
    m = r["machine"]
    v = r["versions"]
    body = render(r, s)
    calls = " / ".join(f"{n} ({side})" for side, n in s.per_page_calls.items())
    banner = "**SMOKE RUN: tiny iteration counts, not a measurement.**\n\n" if smoke else ""
    end_load = r.get("load_average_at_end", "?")
    versions = {side: ", ".join(f"{k} {x}" for k, x in v[side].items()) for side in v}
    text = f"""# cfinval vs boto3: benchmark results

{banner}Run by `make bench` (`bench/run.py`) on {r["date"]}, in {seconds:.0f} s. Ratios are
boto3 / cfinval (higher is better for cfinval), the median of per-round ratios.

**Machine:** {m["cpu"]}; {m["memory"]}; {m["os"]};
{m["python"]} (both sides, same interpreter); load average {m["load"]} at the start,
{end_load} at the end (other work on the machine inflates wall times and compresses ratios).
**cfinval side:** {versions["cfinval"]}.
**boto3 side:** {versions["boto3"]}.

{body}
## Method

- **Same run, same endpoint.** Both SDKs talk to one fake CloudFront (`cfinval.testing`,
  stdlib HTTP server on 127.0.0.1, in its own process) that verifies every request's SigV4
  signature; both sign with the same credentials for `us-east-1`.
- **Like with like.** Each SDK is installed (non-editable) into a fresh venv under
  `bench/_work/` on the same interpreter, bytecode compiled (`compileall`), and every child
  process gets the same small environment: credentials and region in `AWS_*` variables, as on
  Lambda, an empty `HOME`, `PYTHONDONTWRITEBYTECODE=1`.
- **Import**: `bench/workers/import_cost.py` times `import httpx, xmltodict, attrs` and then
  `import cfinval` inside each of {s.import_rounds} fresh processes (medians).
- **Cold start** ({s.cold_rounds} rounds after one unmeasured warm-up): a fresh process runs
  `bench/workers/cold_<sdk>.py`: import, build a client (credentials from the environment),
  list one 100-item page. Wall time is measured around the process by the runner; CPU
  (user + system) and peak RSS come from `wait4()`. The order of the three scripts rotates every
  round. The third script, `cold_floor.py`, is the floor of this design (its three dependencies
  and nothing else); its ratio moves with the machine's load, not with cfinval, so compare
  cfinval's ratio with the floor's of the same run.
- **CPU per page** ({s.per_page_rounds} rounds of {calls} calls, after a warm-up):
  `time.process_time()` around
  `list_invalidations_for_distribution_tenant(Id=..., MaxItems=100)`, the network replaced by the
  canned 100-item page (cfinval: `httpx.MockTransport`; boto3: a `before-send` hook returning an
  `AWSResponse`). This is the SDK's own work: build, sign, parse into objects.
- **Load** ({s.pages:,} pages per run, {s.load_rounds} round(s)): one client, one warm-up request,
  then the pages. "Client CPU per request" is the client process's CPU time (all threads) divided
  by the page count; the fake's CPU is not in it. boto3's pool of 32 threads uses
  `Config(max_pool_connections=32)`; cfinval uses its defaults.
- **Footprint:** every file under the venv's site-packages (the venvs hold no pip), bytecode
  included. The Lambda layers are built by `bench/layer.py` (`make layer`) the same way for both.
  The Lambda Python runtime bundles a boto3 of its own; the boto3 layer is what you ship when
  you pin your boto3 version in your deployment, as AWS suggests for production.
- The endpoint is plain `http://` on loopback, so neither side builds a verified TLS context
  (cfinval builds it on the first `https://` request; botocore loads its CA bundle on the first
  TLS connection). Against the real `https://` endpoint both pay for TLS on the first request.
"""
    path.write_text(text)
    return body


# --- main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny counts, current interpreter for both sides, no venvs",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument(
        "--only",
        default="import,cold,per_page,load,footprint",
        help="comma-separated subset of: %(default)s (and threads: cfinval's "
        "sync Client on 32 threads too)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the venvs of an earlier run, reinstalling cfinval only",
    )
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else Settings()
    started = time.perf_counter()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    global HOME
    HOME = work / "home"
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()

    if args.smoke:
        envs = {"cfinval": Env("cfinval", sys.executable), "boto3": Env("boto3", sys.executable)}
    else:
        log("creating fresh venvs for cfinval and boto3 (pip install, compileall)")
        envs = {
            "cfinval": _venv(work / "venv-cfinval", [str(ROOT)], reuse=args.reuse),
            "boto3": (
                Env("boto3", str(work / "venv-boto3/bin/python"), _site(work / "venv-boto3"))
                if args.reuse and (work / "venv-boto3/bin/python").exists()
                else _venv(work / "venv-boto3", ["boto3"])
            ),
        }
    results: dict[str, object] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": {
            "cfinval": _versions(
                envs["cfinval"],
                ["cfinval", "httpx", "httpcore", "h11", "anyio", "xmltodict", "attrs"],
            ),
            "boto3": _versions(envs["boto3"], ["boto3", "botocore", "urllib3", "s3transfer"]),
        },
    }
    only = set(args.only.split(","))
    log(f"environments ready ({time.perf_counter() - started:.0f} s)")

    def section(key: str, title: str, measure: Callable[[], object]) -> None:
        if key in only:
            log(title)
            begun = time.perf_counter()
            results[key] = measure()
            log(f"  ... {time.perf_counter() - begun:.0f} s")

    fake = FakeServer(envs["cfinval"], work)
    try:
        section(
            "import",
            "import time of cfinval over its dependencies",
            lambda: measure_import(envs, settings.import_rounds),
        )
        section("cold", "cold start to first page", lambda: measure_cold(envs, fake, settings))
        section(
            "per_page", "CPU per page, in process", lambda: measure_per_page(envs, fake, settings)
        )
        section(
            "load",
            f"load: {settings.pages} pages per run",
            lambda: measure_load(envs, fake, settings, LOAD_MODES),
        )
        section(
            "threads",
            f"load: {settings.pages} pages, both on 32 threads",
            lambda: measure_load(envs, fake, settings, THREAD_MODES),
        )
    finally:
        fake.close()
    if "threads" in results:  # shown as one more load row
        results.setdefault("load", {}).update(results.pop("threads"))  # type: ignore[attr-defined]
    if settings.footprint:
        section(
            "footprint",
            "installed footprint and the Lambda layers",
            lambda: measure_footprint(envs, work),
        )
    results["load_average_at_end"] = machine()["load"]
    seconds = time.perf_counter() - started
    table = write_results(args.out, results, settings, args.smoke, seconds)
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(table)
    log(f"wrote {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
