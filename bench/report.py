"""The report of a bench run: targets, the table of medians and ratios, and RESULTS.md.

``bench/run.py`` measures; this module only turns its results (a dict, also saved as
``bench/_work/results.json``) into text, so a report can be rendered again without measuring.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

TARGETS = {  # peer / cfinval, at least
    "cold_wall": 2.3,
    "cold_cpu": 2.3,
    "rss": 1.75,
    "per_page": 5.0,
    "async_cpu": 2.5,
    "closure": 5.0,
}
IMPORT_BUDGET_MS = 15.0

#: Each cold ratio: (peer, side).
COLD_RATIOS = {
    "cfinval": ("boto3", "cfinval"),
    "cfinval_new": ("boto3", "cfinval_new"),
    "floor": ("boto3", "floor"),
    "http": ("boto3_http", "cfinval_http"),
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


def render(r: dict, s: Any) -> str:
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


def write_results(path: Path, r: dict[str, object], s: Any, mode: str, seconds: float) -> str:
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
