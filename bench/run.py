"""cfinval vs boto3 (and aiobotocore, and the Smithy-based aws_sdk_cloudfront where it installs),
side by side in one run, against loopback fakes.

    python bench/run.py                 # what `make bench` runs; writes bench/RESULTS.md
    python bench/run.py --quick         # fewer rounds, fewer pages: a sanity check
    python bench/run.py --smoke --out X # tiny counts, current interpreter, no venvs (the test)

What is measured (RESULTS.md says it in prose, with the conditions of every figure):

1. **the headline, a Lambda cold start**, on each Python of ``--pythons`` (3.12, 3.13, then 3.11
   as a secondary row): a fresh process shaped like a new AWS Lambda execution environment (no
   ``HOME``, an empty ``TMPDIR`` for every run, so cfinval's CA cache starts empty) imports the
   SDK, builds a client and lists one 100-item page over HTTPS (wall and CPU time of the whole
   process, peak RSS; alternating runs). Beside it: the floor of the design (its three
   libraries alone), the Smithy SDK, and a warm-cache command-line run (a ``HOME`` whose CA
   cache an earlier run built), each labelled;
2. **the CA cache, scenario by scenario** (first Python only): Lambda cold start, Lambda warm
   invoke (the second call of a process), repeated command-line runs, a long-running service,
   each with the cache and with ``CFINVAL_CA_CACHE=off``;
3. per-page CPU in process, the network replaced by a canned response;
4. throughput over HTTPS: 1,000 pages sequentially, from 32 threads, and 32 in flight on asyncio;
5. installed size of each dependency closure (fresh venvs), the floor's, and the Lambda layers.

HTTPS is the headline: a test CA and a server certificate are made at bench time (``openssl``),
the CA is appended to a copy of certifi's bundle, and every SDK is given that bundle with
``AWS_CA_BUNDLE`` (the Smithy SDK, on aiohttp, with ``SSL_CERT_FILE``). The fakes answer with
TCP_NODELAY, so no client waits for a delayed ACK.

Every side of one Python runs on that interpreter, from compiled bytecode, in venvs created
afresh under ``bench/_work/`` (git-ignored; aiobotocore and the Smithy SDK get their own). The
fakes run in their own processes, so no client pays for them. Ratios are peer / cfinval, taken
per round and reported as the median of those ratios (with their interquartile range).

Only the standard library is used here; the SDKs live in the venvs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import envs as E  # noqa: E402  (bench/envs.py, next to this file)
from envs import Env, FakeServer, alternate, log, median, quartiles  # noqa: E402
from report import LOAD_ROWS, machine, write_results  # noqa: E402

ROOT = E.ROOT
WORKERS = E.WORKERS


@dataclass
class Settings:
    cold_rounds: int = 15
    import_rounds: int = 15
    per_page_rounds: int = 3
    per_page_calls: dict[str, int] = field(default_factory=lambda: {"cfinval": 400, "boto3": 100})
    pages: int = 1000
    load_rounds: int = 1
    warm_invoke_rounds: int = 9
    cli_runs: int = 100
    service_pages: int = 1000
    service_rounds: int = 3
    footprint: bool = True
    warm_up: bool = True


QUICK = Settings(
    cold_rounds=5,
    import_rounds=5,
    per_page_rounds=1,
    per_page_calls={"cfinval": 200, "boto3": 50},
    pages=300,
    warm_invoke_rounds=3,
    cli_runs=10,
    service_pages=300,
    service_rounds=1,
    footprint=True,
)

SMOKE = Settings(
    cold_rounds=1,
    import_rounds=1,
    per_page_rounds=1,
    per_page_calls={"cfinval": 5, "boto3": 5},
    pages=20,
    load_rounds=1,
    warm_invoke_rounds=1,
    cli_runs=1,
    service_pages=20,
    service_rounds=1,
    footprint=False,
    warm_up=False,
)

#: The Pythons measured, the first one the headline's (Lambda's current runtimes first).
PYTHONS = "3.12,3.13,3.11"
#: The Smithy-based SDK needs Python 3.12 or later.
SMITHY = "aws-sdk-cloudfront"
SMITHY_MIN = (3, 12)


@dataclass
class Python:
    """One interpreter and the venvs of every side on it."""

    version: str  # "3.12"
    full: str  # "3.12.1"
    envs: dict[str, Env]
    #: Why the Smithy SDK is not measured on this Python (pip's reason), if it is not.
    smithy_missing: str | None = None


def _tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def make_pythons(
    args: argparse.Namespace, work: Path, needs_async_peer: bool
) -> tuple[list[Python], list[str]]:
    """The venvs of every side on every Python found; the versions not found."""
    if args.smoke:
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        smoke = {"cfinval": Env("cfinval", sys.executable), "boto3": Env("boto3", sys.executable)}
        if importlib.util.find_spec("aiobotocore") is not None:
            smoke["aiobotocore"] = Env("aiobotocore", sys.executable)
        return [
            Python(version, platform.python_version(), smoke, "not attempted in a smoke run")
        ], []
    out: list[Python] = []
    missing: list[str] = []
    for version in [v.strip() for v in args.pythons.split(",") if v.strip()]:
        python = E.find_python(version)
        if python is None:
            missing.append(version)
            log(f"Python {version}: not found (pyenv or python{version} on the PATH)")
            continue
        log(f"Python {version}: {python}: fresh venvs (pip install, compileall)")
        where = work / f"py{version}"
        where.mkdir(parents=True, exist_ok=True)

        def venv(name: str, requirements: list[str], where: Path = where, py: str = python) -> Env:
            path = where / f"venv-{name}"
            if args.reuse and name != "cfinval" and (path / "bin" / "python").exists():
                return Env(name, str(path / "bin" / "python"), E.site_packages(path))
            return E.make_venv(py, path, requirements, reuse=args.reuse and name == "cfinval")

        sides = {"cfinval": venv("cfinval", [str(ROOT)]), "boto3": venv("boto3", ["boto3"])}
        if not out and needs_async_peer:
            sides["aiobotocore"] = venv("aiobotocore", ["aiobotocore"])
        smithy_missing = None
        if _tuple(version) < SMITHY_MIN:
            smithy_missing = f"needs Python {'.'.join(map(str, SMITHY_MIN))} or later"
        else:
            try:
                sides["smithy"] = venv("smithy", [SMITHY])
            except E.InstallFailed as exc:
                smithy_missing = f"`pip install {SMITHY}` failed: {exc}"
                log(f"  {SMITHY} on Python {version}: {smithy_missing}")
        out.append(Python(version, E.full_version(python), sides, smithy_missing))
    return out, missing


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
        env=E.child_env(env),
        cwd=E.HOME,
    )
    return json.loads(done.stdout)


VERSIONS = {
    "cfinval": ["cfinval", "httpx", "httpcore", "h11", "anyio", "xmltodict", "attrs", "certifi"],
    "boto3": ["boto3", "botocore", "urllib3", "s3transfer"],
    "aiobotocore": ["aiobotocore", "botocore", "aiohttp"],
    "smithy": ["aws-sdk-cloudfront", "smithy-core", "smithy-aws-core", "smithy-http", "aiohttp"],
}


# --- cold start -----------------------------------------------------------------------------------

#: Cold-start runs: side -> (environment, script, fake, shape). Shapes: ``lambda`` (a new
#: execution environment: no HOME, an empty TMPDIR), ``nocache`` (the same with
#: ``CFINVAL_CA_CACHE=off``), ``cli`` (HOME holds the CA cache that an earlier run built).
COLD = {
    "cfinval": ("cfinval", "cold_cfinval.py", "https", "lambda"),
    "boto3": ("boto3", "cold_boto3.py", "https", "lambda"),
    "floor": ("cfinval", "cold_floor.py", "https", "lambda"),
    "cfinval_cli": ("cfinval", "cold_cfinval.py", "https", "cli"),
}
#: Only on the first Python.
COLD_FIRST = {
    "cfinval_nocache": ("cfinval", "cold_cfinval.py", "https", "nocache"),
    "cfinval_http": ("cfinval", "cold_cfinval.py", "http", "lambda"),
    "boto3_http": ("boto3", "cold_boto3.py", "http", "lambda"),
}
COLD_SMITHY = {"smithy": ("smithy", "cold_smithy.py", "https", "lambda")}
#: Create one invalidation (a deploy hook's first invocation), on the first Python, once cfinval
#: has ``create_invalidation_for_distribution_tenant``.
COLD_CREATE = {
    "create_cfinval": ("cfinval", "create_cfinval.py", "https", "lambda"),
    "create_boto3": ("boto3", "create_boto3.py", "https", "lambda"),
}

#: Each cold ratio: (peer, side); those whose sides were not measured are left out.
COLD_RATIOS = {
    "lambda": ("boto3", "cfinval"),
    "floor": ("boto3", "floor"),
    "cli": ("boto3", "cfinval_cli"),
    "nocache": ("boto3", "cfinval_nocache"),
    "http": ("boto3_http", "cfinval_http"),
    "smithy": ("smithy", "cfinval"),
    "create": ("create_boto3", "create_cfinval"),
}


class Cold:
    """Runs one cold-start side of one Python in its shape."""

    def __init__(self, py: Python, fakes: dict[str, FakeServer], work: Path) -> None:
        self.py = py
        self.fakes = fakes
        self.tmp = work / "lambda-tmp"

    def shape(self, shape: str, fake: FakeServer, openssl: bool = False) -> dict[str, str | None]:
        extra = dict(fake.openssl_env if openssl else fake.client_env)
        if shape in ("lambda", "nocache"):
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp.mkdir(parents=True)  # a new execution environment: /tmp is empty
            extra.update(E.lambda_env(self.py.version, self.tmp))
        if shape == "nocache":
            extra["CFINVAL_CA_CACHE"] = "off"
        return extra

    def run(self, spec: tuple[str, str, str, str], *args: str) -> E.Proc:
        env, script, scheme, shape = spec
        fake = self.fakes[scheme]
        extra = self.shape(shape, fake, openssl=env == "smithy")
        tenant = fake.create_tenant if script.startswith("create_") else fake.tenant
        argv = [str(WORKERS / script), fake.endpoint_url, tenant, *args]
        try:
            return E.spawn(self.py.envs[env], argv, extra)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def create_missing(py: Python, fakes: dict[str, FakeServer], work: Path) -> str | None:
    """Why the create-one-invalidation rows cannot be measured (``None``: they can): cfinval
    without the operation, or a first run of each side that fails."""
    operation = "create_invalidation_for_distribution_tenant"
    code = f"import cfinval; print(hasattr(cfinval.Client, {operation!r}))"
    done = subprocess.run(
        [py.envs["cfinval"].python, "-c", code],
        capture_output=True,
        text=True,
        env=E.child_env(py.envs["cfinval"]),
        cwd=E.HOME,
    )
    if done.stdout.strip() != "True":
        return "this cfinval has no create_invalidation_for_distribution_tenant"
    cold = Cold(py, fakes, work)
    for spec in COLD_CREATE.values():
        try:
            cold.run(spec)
        except RuntimeError as exc:
            last = str(exc).strip().splitlines()[-1]
            return f"{spec[1]} failed against the fake: {last}"
    return None


def measure_cold(
    py: Python,
    fakes: dict[str, FakeServer],
    s: Settings,
    first: bool,
    work: Path,
    create: bool = False,
) -> dict[str, object]:
    specs = dict(COLD)
    if first:
        specs.update(COLD_FIRST)
    cold = Cold(py, fakes, work)
    if "smithy" in py.envs and py.smithy_missing is None:
        try:  # a developer preview: its API may have moved under the script
            cold.run(COLD_SMITHY["smithy"])
            specs.update(COLD_SMITHY)
        except RuntimeError as exc:
            last = str(exc).strip().splitlines()[-1]
            py.smithy_missing = f"installed, but `bench/workers/cold_smithy.py` failed: {last}"
            log(f"  aws_sdk_cloudfront on Python {py.version}: {py.smithy_missing}")
    if create:
        specs.update(COLD_CREATE)

    def one(side: str) -> E.Proc:
        return cold.run(specs[side])

    if s.warm_up:  # the page cache (and the command line's CA cache); every run is a new process
        for side in specs:
            one(side)
    elif "cfinval_cli" in specs:
        one("cfinval_cli")  # its CA cache, at least
    runs = alternate(s.cold_rounds, list(specs), one)
    sides: dict[str, object] = {}
    for side in specs:
        sides[side] = {
            "wall_ms": median([r[side].wall for r in runs]) * 1000,
            "cpu_ms": median([r[side].cpu for r in runs]) * 1000,
            "rss_mib": median([r[side].rss for r in runs]) / 1024,
        }
    ratios: dict[str, object] = {}
    for key, (peer, side) in COLD_RATIOS.items():
        if peer in specs and side in specs:
            ratio = {}
            for what in ("wall", "cpu", "rss"):
                values = [getattr(r[peer], what) / getattr(r[side], what) for r in runs]
                ratio[what] = median(values)
                ratio[f"{what}_iqr"] = quartiles(values)
            ratios[key] = ratio
    out: dict[str, object] = {"sides": sides, "ratios": ratios, "rounds": s.cold_rounds}
    if first and "cfinval_nocache" in specs:
        # What the CA cache saves at a Lambda cold start: off - on, per round.
        out["cache_saves"] = {
            what: median(
                [getattr(r["cfinval_nocache"], what) - getattr(r["cfinval"], what) for r in runs]
            )
            for what in ("wall", "cpu", "rss")
        }
    return out


# --- the CA cache, scenario by scenario -----------------------------------------------------------


def measure_ca_cache(
    py: Python, fakes: dict[str, FakeServer], s: Settings, work: Path
) -> dict[str, object]:
    """With the cache (the default) and without (``CFINVAL_CA_CACHE=off``): a Lambda warm
    invoke, ``s.cli_runs`` command-line runs, a long-running service. (The Lambda cold start is
    in the cold-start section.)"""
    env = py.envs["cfinval"]
    fake = fakes["https"]
    cold = Cold(py, fakes, work)
    off = {"CFINVAL_CA_CACHE": "off"}
    out: dict[str, object] = {}

    def invoke(mode: str) -> dict[str, float]:
        extra = cold.shape("lambda" if mode == "on" else "nocache", fake)
        try:
            argv = [str(WORKERS / "warm_invoke.py"), fake.endpoint_url, fake.tenant]
            return E.run_json(env, argv, extra)
        finally:
            shutil.rmtree(cold.tmp, ignore_errors=True)

    runs = alternate(s.warm_invoke_rounds, ["on", "off"], invoke)
    out["warm_invoke"] = {
        mode: {key: median([r[mode][key] for r in runs]) for key in runs[0][mode]}
        for mode in ("on", "off")
    }

    homes = {"on": work / "home-cli-on", "off": work / "home-cli-off"}
    for home in homes.values():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
    cli = [
        "-m",
        "cfinval",
        "list-invalidations-for-distribution-tenant",
        "--id",
        fake.tenant,
        "--endpoint-url",
        fake.endpoint_url,
        "--max-items",
        "100",
    ]

    def cli_run(mode: str) -> E.Proc:
        extra = {**fake.client_env, "HOME": str(homes[mode]), "TMPDIR": str(homes[mode])}
        return E.spawn(env, cli, {**extra, **(off if mode == "off" else {})})

    runs = alternate(s.cli_runs, ["on", "off"], cli_run)  # the first "on" run builds the cache
    out["cli_runs"] = {
        "runs": s.cli_runs,
        **{
            mode: {
                "wall_s": sum(r[mode].wall for r in runs),
                "cpu_s": sum(r[mode].cpu for r in runs),
                "rss_mib": median([r[mode].rss for r in runs]) / 1024,
            }
            for mode in ("on", "off")
        },
    }

    service = [str(WORKERS / "inproc_cfinval.py"), "sync", fake.endpoint_url, fake.tenant]
    service.append(str(s.service_pages))

    def serve(mode: str) -> E.Proc:
        extra = {**fake.client_env, "HOME": str(homes[mode]), "TMPDIR": str(homes[mode])}
        return E.spawn(env, service, {**extra, **(off if mode == "off" else {})})

    runs = alternate(s.service_rounds, ["on", "off"], serve)
    out["service"] = {
        "pages": s.service_pages,
        **{
            mode: {
                "wall_s": median([r[mode].wall for r in runs]),
                "cpu_s": median([r[mode].cpu for r in runs]),
                "rss_mib": median([r[mode].rss for r in runs]) / 1024,
            }
            for mode in ("on", "off")
        },
    }
    return out


# --- in process -----------------------------------------------------------------------------------


def measure_import(env: Env, rounds: int) -> dict[str, float]:
    """Medians over fresh processes of what ``import cfinval`` adds to its dependencies, timed
    inside the process (``workers/import_cost.py``): start-up and exit are the same for both and
    would only add noise to a difference of two process times."""
    runs = [E.run_json(env, [str(WORKERS / "import_cost.py")]) for _ in range(rounds)]
    return {key: median([r[key] for r in runs]) for key in runs[0]}


def measure_per_page(envs: dict[str, Env], fake: FakeServer, s: Settings) -> dict[str, float]:
    def one(side: str) -> float:
        script = WORKERS / f"inproc_{side}.py"
        argv = [str(script), "per_page", str(fake.body_file), str(s.per_page_calls[side])]
        return E.run_json(envs[side], argv)["cpu_per_page"]

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
            return E.run_json(envs[env], argv, fake.client_env)

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


# --- footprint ------------------------------------------------------------------------------------


def tree_size(path: Path, bytecode: bool = True) -> tuple[int, int]:
    """(bytes, files) of the files under ``path`` (without ``__pycache__`` if not ``bytecode``)."""
    if path.is_file():
        return path.stat().st_size, 1
    total = files = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink() and (bytecode or "__pycache__" not in p.parts):
            total += p.stat().st_size
            files += 1
    return total, files


def measure_footprint(py: Python, work: Path, layers: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for side, env in py.envs.items():
        assert env.site_packages is not None
        size, files = tree_size(env.site_packages)
        source, _ = tree_size(env.site_packages, bytecode=False)
        out[side] = {"bytes": size, "files": files, "source_bytes": source}
    site = py.envs["cfinval"].site_packages
    assert site is not None
    package, package_files = tree_size(site / "cfinval")
    package_source, _ = tree_size(site / "cfinval", bytecode=False)
    dist_info = next(site.glob("cfinval-*.dist-info"))
    info, info_files = tree_size(dist_info)
    mine = out["cfinval"]
    assert isinstance(mine, dict)
    out["own"] = {
        "source_bytes": package_source,
        "bytecode_bytes": package - package_source,
        "metadata_bytes": (dist_info / "METADATA").stat().st_size,
        "dist_info_bytes": info,
    }
    # The floor: httpx, xmltodict and attrs with their dependencies, without cfinval.
    out["floor"] = {
        "bytes": mine["bytes"] - package - info,
        "files": mine["files"] - package_files - info_files,
        "source_bytes": mine["source_bytes"] - package_source - info,
    }
    if layers:  # built by bench/layer.py (`make layer`) on this Python, the same for both
        python = str(Path(py.envs["cfinval"].python).resolve())
        # cfinval's from its lock (what `make layer` builds); boto3's resolved with its own
        # dependencies (the lock pins cfinval's only: with it, boto3 would come without botocore)
        for side, spec, how in (("cfinval", str(ROOT), ()), ("boto3", "boto3", ("--resolve",))):
            zipped = work / f"layer-{side}.zip"
            subprocess.run(
                [python, str(HERE / "layer.py"), "--out", str(zipped), "--project", spec, *how],
                check=True,
                capture_output=True,
            )
            with zipfile.ZipFile(zipped) as archive:
                names = archive.namelist()
            files = len(names)
            needed = "python/botocore/" if side == "boto3" else "python/httpx/"
            if not any(name.startswith(needed) for name in names):
                raise RuntimeError(f"the {side} layer lacks {needed}: not a layer that runs")
            out[f"layer_{side}"] = {"bytes": zipped.stat().st_size, "files": files}
    return out


# --- main -----------------------------------------------------------------------------------------


SECTIONS = "import,cold,ca_cache,per_page,load,footprint"


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
        "--pythons",
        default=PYTHONS,
        help="the Pythons to measure, the headline's first (default: %(default)s)",
    )
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
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    E.set_home(home)

    pythons, missing = make_pythons(args, work, "load" in only or "footprint" in only)
    if not pythons:
        raise SystemExit(f"none of the Pythons {args.pythons} was found")
    first = pythons[0]
    results: dict[str, object] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "pythons": {py.version: py.full for py in pythons},
        "missing_pythons": missing,
        "smithy_missing": {py.version: py.smithy_missing for py in pythons},
        "versions": {
            py.version: {name: _versions(env, VERSIONS[name]) for name, env in py.envs.items()}
            for py in pythons
        },
    }
    tls = E.make_tls(work, first.envs["cfinval"])
    log(f"environments ready ({time.perf_counter() - started:.0f} s)")

    def section(key: str, title: str, measure: Callable[[], object]) -> None:
        if key in only:
            log(title)
            begun = time.perf_counter()
            results[key] = measure()
            log(f"  ... {time.perf_counter() - begun:.0f} s")

    fakes = {"https": FakeServer(first.envs["cfinval"], work, tls)}
    try:
        fakes["http"] = FakeServer(first.envs["cfinval"], work)
        section(
            "import",
            f"import time of cfinval over its dependencies (Python {first.version})",
            lambda: measure_import(first.envs["cfinval"], settings.import_rounds),
        )
        if "cold" in only:
            results["create_missing"] = create_missing(first, fakes, work)
        section(
            "cold",
            "cold start to first page, Lambda-shaped, on "
            + ", ".join(f"Python {py.version}" for py in pythons),
            lambda: {
                py.version: measure_cold(
                    py,
                    fakes,
                    settings,
                    py is first,
                    work,
                    create=py is first and results["create_missing"] is None,
                )
                for py in pythons
            },
        )
        section(
            "ca_cache",
            f"the CA cache: warm invoke, {settings.cli_runs} CLI runs, a service",
            lambda: measure_ca_cache(first, fakes, settings, work),
        )
        section(
            "per_page",
            "CPU per page, in process",
            lambda: measure_per_page(first.envs, fakes["https"], settings),
        )
        section(
            "load",
            f"load: {settings.pages} pages per run",
            lambda: measure_load(first.envs, fakes["https"], settings, list(LOAD_ROWS)),
        )
    finally:
        for fake in fakes.values():
            fake.close()
    if settings.footprint:
        section(
            "footprint",
            "installed footprint and the Lambda layers",
            lambda: {py.version: measure_footprint(py, work, layers=py is first) for py in pythons},
        )
    results["smithy_missing"] = {py.version: py.smithy_missing for py in pythons}
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
