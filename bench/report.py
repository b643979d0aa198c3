"""The report of a bench run: targets, the tables of medians and ratios, and RESULTS.md.

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
#: The Pythons whose Lambda cold start carries the targets (Lambda's current runtimes).
TARGET_PYTHONS = ("3.12", "3.13")
IMPORT_BUDGET_MS = 15.0

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

#: Cold rows: ratio key -> (label, peer's name). The headline first.
COLD_LABELS = {
    "lambda": ("Lambda cold start, HTTPS, empty CA cache", "boto3"),
    "floor": ("the floor (httpx, xmltodict, attrs alone), Lambda cold start, HTTPS", "boto3"),
    "smithy": ("Lambda cold start, HTTPS, empty CA cache", "aws_sdk_cloudfront"),
    "create": ("Lambda cold start, create one invalidation, HTTPS, empty CA cache", "boto3"),
    "cli": ("warm-cache command-line run, HTTPS (CA cache built by an earlier run)", "boto3"),
    "nocache": ("Lambda cold start, HTTPS, CFINVAL_CA_CACHE=off", "boto3"),
    "http": ("Lambda cold start, plain HTTP", "boto3"),
}
#: Which side of a ratio is whose: ratio key -> (peer side, our side).
COLD_SIDES = {
    "lambda": ("boto3", "cfinval"),
    "floor": ("boto3", "floor"),
    "smithy": ("smithy", "cfinval"),
    "create": ("create_boto3", "create_cfinval"),
    "cli": ("boto3", "cfinval_cli"),
    "nocache": ("boto3", "cfinval_nocache"),
    "http": ("boto3_http", "cfinval_http"),
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
    label: str,
    peer: str,
    cf: str,
    other: str,
    ratio: float,
    target: float | None = None,
    iqr: tuple[float, float] | None = None,
) -> str:
    met = f"≥ {target}x | {_mark(ratio, target)}" if target is not None else " | "
    spread = f" ({iqr[0]:.2f}-{iqr[1]:.2f})" if iqr is not None else ""
    return f"| {label} | {cf} | {peer} | {other} | {ratio:.2f}x{spread} | {met} |"


def _ms(value: float) -> str:
    return f"{value:.0f} ms"


def _mib(value: float) -> str:
    return f"{value / 1024 / 1024:.2f} MiB"


HEADER = [
    "| measurement | cfinval | peer | peer's | peer / cfinval (IQR) | target | met |",
    "|---|---:|---|---:|---:|---:|---|",
]


def render_cold(r: dict) -> str:
    rows = list(HEADER)
    notes = []
    for version, c in r["cold"].items():
        for key, (label, peer) in COLD_LABELS.items():
            if key not in c["ratios"]:
                continue
            x = c["ratios"][key]
            theirs, mine = (c["sides"][side] for side in COLD_SIDES[key])
            targeted = key == "lambda" and version in TARGET_PYTHONS
            for what, unit, target in (
                ("wall", "wall_ms", "cold_wall"),
                ("CPU", "cpu_ms", "cold_cpu"),
                ("peak RSS", "rss_mib", "rss"),
            ):
                fmt = _ms if unit != "rss_mib" else (lambda v: f"{v:.1f} MiB")
                short = {"wall": "wall", "CPU": "cpu", "peak RSS": "rss"}[what]
                rows.append(
                    _row(
                        f"{label} (Python {version}): {what}",
                        peer,
                        fmt(mine[unit]),
                        fmt(theirs[unit]),
                        x[short],
                        TARGETS[target] if targeted else None,
                        tuple(x[f"{short}_iqr"]),
                    )
                )
        missing = r.get("smithy_missing", {}).get(version)
        if missing:
            notes.append(f"- aws_sdk_cloudfront on Python {version}: not measured ({missing}).")
    if r.get("create_missing"):
        notes.append(
            "- Create one invalidation (vs boto3's "
            f"`create_invalidation_for_distribution_tenant`): not measured ({r['create_missing']})."
        )
    return "\n".join(rows) + "\n\n" + "\n".join(notes) + ("\n" if notes else "")


def render_ca_cache(r: dict) -> str:
    first = next(iter(r["cold"])) if "cold" in r else None
    lines = [
        "| scenario | with the cache (default) | `CFINVAL_CA_CACHE=off` | the cache saves |",
        "|---|---:|---:|---:|",
    ]
    if first is not None and "cache_saves" in r["cold"][first]:
        c = r["cold"][first]
        on, off, saves = c["sides"]["cfinval"], c["sides"]["cfinval_nocache"], c["cache_saves"]
        lines += [
            f"| Lambda cold start (new execution environment, empty `/tmp`): process wall "
            f"| {on['wall_ms']:.0f} ms | {off['wall_ms']:.0f} ms | {saves['wall'] * 1000:.1f} ms |",
            f"| Lambda cold start: process CPU "
            f"| {on['cpu_ms']:.0f} ms | {off['cpu_ms']:.0f} ms | {saves['cpu'] * 1000:.1f} ms |",
            f"| Lambda cold start: peak RSS | {on['rss_mib']:.1f} MiB | {off['rss_mib']:.1f} MiB "
            f"| {saves['rss'] / 1024:.2f} MiB |",
        ]
    cache = r.get("ca_cache")
    if cache:
        w = cache["warm_invoke"]
        on, off = w["on"], w["off"]
        lines += [
            f"| Lambda warm invoke (the second call of the process): wall "
            f"| {on['second_ms']:.2f} ms | {off['second_ms']:.2f} ms "
            f"| {off['second_ms'] - on['second_ms']:.2f} ms |",
            f"| Lambda warm invoke: CPU | {on['second_cpu_ms']:.2f} ms "
            f"| {off['second_cpu_ms']:.2f} ms "
            f"| {off['second_cpu_ms'] - on['second_cpu_ms']:.2f} ms |",
        ]
        c = cache["cli_runs"]
        n = c["runs"]
        on, off = c["on"], c["off"]
        lines += [
            f"| {n} command-line runs, `HOME` kept (the first builds the cache): total wall "
            f"| {on['wall_s']:.2f} s | {off['wall_s']:.2f} s "
            f"| {off['wall_s'] - on['wall_s']:.2f} s ({(off['wall_s'] - on['wall_s']) / n * 1000:.1f} ms a run) |",  # noqa: E501
            f"| {n} command-line runs: total CPU | {on['cpu_s']:.2f} s | {off['cpu_s']:.2f} s "
            f"| {off['cpu_s'] - on['cpu_s']:.2f} s |",
        ]
        sv = cache["service"]
        on, off = sv["on"], sv["off"]
        lines += [
            f"| a long-running service (one process, {sv['pages']:,} pages): process CPU "
            f"| {on['cpu_s']:.2f} s | {off['cpu_s']:.2f} s "
            f"| {(off['cpu_s'] - on['cpu_s']) * 1000:.0f} ms |",
            f"| a long-running service: peak RSS | {on['rss_mib']:.1f} MiB "
            f"| {off['rss_mib']:.1f} MiB | {off['rss_mib'] - on['rss_mib']:.2f} MiB |",
        ]
    return "\n".join(lines) + "\n"


def render_in_process(r: dict, s: Any) -> str:
    rows = list(HEADER)
    add = rows.append
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
    notes = []
    for row, (_, peer, _) in LOAD_ROWS.items():
        if "load" in r and row not in r["load"]:
            notes.append(f"- {LOAD_LABELS[row]}: not measured ({peer} is not installed here).")
    return "\n".join(rows) + "\n\n" + "\n".join(notes) + ("\n" if notes else "")


def render_footprint(r: dict) -> str:
    rows = list(HEADER)
    add = rows.append
    first = next(iter(r["footprint"]))
    for version, f in r["footprint"].items():
        mine = f["cfinval"]
        for peer, name in (
            ("boto3", "boto3"),
            ("aiobotocore", "aiobotocore"),
            ("smithy", "aws_sdk_cloudfront"),
        ):
            if peer not in f:
                continue
            add(
                _row(
                    f"installed closure, fresh venv, with bytecode (Python {version})",
                    name,
                    _mib(mine["bytes"]),
                    _mib(f[peer]["bytes"]),
                    f[peer]["bytes"] / mine["bytes"],
                    TARGETS["closure"] if peer == "boto3" and version == first else None,
                )
            )
        add(
            _row(
                f"the floor's closure (httpx, xmltodict, attrs alone; Python {version})",
                "boto3",
                _mib(f["floor"]["bytes"]),
                _mib(f["boto3"]["bytes"]),
                f["boto3"]["bytes"] / f["floor"]["bytes"],
            )
        )
        if version == first:
            add(
                _row(
                    f"installed closure, without bytecode (Python {version})",
                    "boto3",
                    _mib(mine["source_bytes"]),
                    _mib(f["boto3"]["source_bytes"]),
                    f["boto3"]["source_bytes"] / mine["source_bytes"],
                )
            )
            add(
                _row(
                    f"installed closure, files (Python {version})",
                    "boto3",
                    f"{mine['files']:,}",
                    f"{f['boto3']['files']:,}",
                    f["boto3"]["files"] / mine["files"],
                )
            )
        if "layer_cfinval" in f:
            add(
                _row(
                    f"Lambda layer zip (`make layer`, Python {version})",
                    "boto3",
                    f"{f['layer_cfinval']['bytes'] / 1024 / 1024:.2f} MiB",
                    f"{f['layer_boto3']['bytes'] / 1024 / 1024:.2f} MiB",
                    f["layer_boto3"]["bytes"] / f["layer_cfinval"]["bytes"],
                )
            )
    own = r["footprint"][first]["own"]
    note = (
        f"- cfinval's own share on Python {first}: {own['source_bytes'] / 1024:.0f} KiB of source, "
        f"{own['bytecode_bytes'] / 1024:.0f} KiB of bytecode (pip compiles it at install, as for "
        f"every side), {own['dist_info_bytes'] / 1024:.0f} KiB of `.dist-info` "
        f"({own['metadata_bytes'] / 1024:.1f} KiB of it `METADATA`)."
    )
    return "\n".join(rows) + "\n\n" + note + "\n"


def render_notes(r: dict, s: Any) -> str:
    notes = []
    if "import" in r:
        i = r["import"]
        verdict = "met" if i["added_ms"] <= IMPORT_BUDGET_MS else "**not met**"
        first = next(iter(r["pythons"]))
        notes.append(
            f"- `import cfinval` adds **{i['added_ms']:.1f} ms** wall ({i['added_cpu_ms']:.1f} ms "
            f"CPU) to `import httpx, xmltodict, attrs` (which takes {i['deps_ms']:.0f} ms) on "
            f"Python {first}; median of {s.import_rounds} fresh processes; budget "
            f"{IMPORT_BUDGET_MS:.0f} ms: {verdict}."
        )
    if "cold" in r:
        for version, c in r["cold"].items():
            f, x = c["sides"]["floor"], c["ratios"]["floor"]
            notes.append(
                f"- The floor of this design on Python {version} (`bench/workers/cold_floor.py`: "
                f"import httpx, attrs and xmltodict, load the CA bundle as httpx does, sign one "
                f"GET by hand, parse the page with xmltodict), Lambda-shaped: "
                f"{f['wall_ms']:.0f} ms wall, {f['cpu_ms']:.0f} ms CPU, {f['rss_mib']:.1f} MiB "
                f"peak RSS; boto3 / floor = {x['wall']:.2f}x wall, {x['cpu']:.2f}x CPU, "
                f"{x['rss']:.2f}x RSS. A target above the floor's ratio cannot be met with these "
                f"libraries."
            )
    return "\n".join(notes) + "\n"


def render(r: dict, s: Any) -> str:
    """Every table, with its notes (what `make bench` prints, too)."""
    parts = []
    if "cold" in r:
        parts.append(render_cold(r))
    if "cold" in r or "ca_cache" in r:
        parts.append(render_ca_cache(r))
    if "per_page" in r or "load" in r:
        parts.append(render_in_process(r, s))
    if "footprint" in r:
        parts.append(render_footprint(r))
    parts.append(render_notes(r, s))
    return "\n".join(parts)


def write_results(path: Path, r: dict[str, Any], s: Any, mode: str, seconds: float) -> str:
    from report_text import results_text  # the prose, kept apart from the numbers

    body = render(r, s)
    path.write_text(results_text(r, s, mode, seconds))
    return body


def readme_table(r: dict) -> str:
    """The README's table, from a run's results (``python bench/report.py RESULTS_JSON``)."""
    first = next(iter(r["pythons"]))
    lam = f"Lambda, {first}"
    rows = [
        "| | conditions | cfinval | peer | peer / cfinval |",
        "|---|---|---:|---:|---:|",
    ]

    def cold(key: str, version: str, label: str, conditions: str, what: str = "wall") -> None:
        c = r["cold"][version]
        peer_side, side = COLD_SIDES[key]
        unit = {"wall": "wall_ms", "cpu": "cpu_ms", "rss": "rss_mib"}[what]
        mine, theirs = c["sides"][side][unit], c["sides"][peer_side][unit]
        shown = (lambda v: f"{v:.1f} MiB") if what == "rss" else (lambda v: f"{v:.0f} ms")
        word = {"wall": "faster", "cpu": "less", "rss": "smaller"}[what]
        rows.append(
            f"| {label} | {conditions} | {shown(mine)} | {COLD_LABELS[key][1]} {shown(theirs)} "
            f"| **{c['ratios'][key][what]:.2f}x** {word} |"
        )

    if "cold" in r:
        cold("lambda", first, "cold start to first page over HTTPS, wall", lam)
        cold("lambda", first, "the same, CPU", lam, "cpu")
        cold("lambda", first, "peak memory of that process", lam, "rss")
        for version in r["cold"]:
            if version != first:
                cold("lambda", version, "the same cold start, wall", f"Lambda, {version}")
        cold("cli", first, "a command-line run, wall", f"CLI, {first}")
        cold("floor", first, "the floor: httpx, xmltodict, attrs alone, wall", lam)
        cold("floor", first, "the floor, peak memory", lam, "rss")
        if "create" in r["cold"][first]["ratios"]:
            cold("create", first, "cold start to one invalidation created, wall", lam)
    if "per_page" in r:
        p = r["per_page"]
        rows.append(
            f"| CPU per 100-item page (build, sign, parse) | in process, {first} "
            f"| {p['cfinval_us'] / 1000:.2f} ms | boto3 {p['boto3_us'] / 1000:.2f} ms "
            f"| **{p['ratio']:.2f}x** less |"
        )
    for row, v in r.get("load", {}).items():
        rows.append(
            f"| client CPU per page, {LOAD_LABELS[row].split(' (')[0]} | 1,000 pages over HTTPS, "
            f"{first} | {v['cfinval_cpu_us'] / 1000:.2f} ms | {v['peer']} "
            f"{v['peer_cpu_us'] / 1000:.2f} ms | **{v['ratio_cpu']:.2f}x** less |"
        )
    if "footprint" in r:
        f = r["footprint"][first]
        for label, mine in (
            ("installed, with its dependencies", f["cfinval"]),
            ("the floor's dependencies alone", f["floor"]),
        ):
            rows.append(
                f"| {label} | fresh venv, bytecode, {first} | {_mib(mine['bytes'])} "
                f"| boto3 {_mib(f['boto3']['bytes'])} "
                f"| **{f['boto3']['bytes'] / mine['bytes']:.2f}x** smaller |"
            )
        if "layer_cfinval" in f:
            mine, theirs = f["layer_cfinval"]["bytes"], f["layer_boto3"]["bytes"]
            rows.append(
                f"| Lambda layer zip | `make layer`, {first} | {_mib(mine)} | boto3 {_mib(theirs)} "
                f"| **{theirs / mine:.2f}x** smaller |"
            )
    return "\n".join(rows)


if __name__ == "__main__":
    import json
    import sys

    print(readme_table(json.loads(Path(sys.argv[1]).read_text())))
