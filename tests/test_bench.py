"""The benchmark runner keeps working (tiny counts: this checks the machinery, not the numbers)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys

import pytest

import cfinval

from .conftest import BACKGROUND


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the bench makes its certificates")
def test_bench_runner_measures_every_sdk_and_writes_the_table() -> None:
    # bench/run.py --smoke --out DIR/RESULTS.md --work DIR/work, started in the background
    # when collection ended (see BackgroundJob)
    done, directory = BACKGROUND["bench"].result(timeout=300)
    assert done.returncode == 0, done.stderr
    out = directory / "RESULTS.md"
    text = out.read_text()
    assert "SMOKE RUN" in text
    rows = {
        line.split("|")[1].strip(): line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| measurement", "| scenario"))
    }
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    cold = [
        f"Lambda cold start, HTTPS, empty CA cache (Python {version})",
        f"the floor (httpx, xmltodict, attrs alone), Lambda cold start, HTTPS (Python {version})",
        f"warm-cache command-line run, HTTPS (CA cache built by an earlier run) (Python {version})",
        f"Lambda cold start, HTTPS, CFINVAL_CA_CACHE=off (Python {version})",
        f"Lambda cold start, plain HTTP (Python {version})",
    ]
    if hasattr(cfinval.Client, "create_invalidation_for_distribution_tenant"):
        cold.append(
            f"Lambda cold start, create one invalidation, HTTPS, empty CA cache (Python {version})"
        )
    else:
        assert "Create one invalidation (vs boto3's" in text
    cache = [
        "Lambda cold start (new execution environment, empty `/tmp`): process wall",
        "Lambda cold start: process CPU",
        "Lambda cold start: peak RSS",
        "Lambda warm invoke (the second call of the process): wall",
        "Lambda warm invoke: CPU",
        "1 command-line runs, `HOME` kept (the first builds the cache): total wall",
        "1 command-line runs: total CPU",
        "a long-running service (one process, 20 pages): process CPU",
        "a long-running service: peak RSS",
    ]
    load = [
        "20 pages over HTTPS, sequential (Client vs boto3)",
        "20 pages over HTTPS, 32 threads sharing a client (Client vs boto3)",
    ]
    if importlib.util.find_spec("aiobotocore") is not None:
        load.append("20 pages over HTTPS, 32 in flight on asyncio (AsyncClient vs aiobotocore)")
    else:
        assert "32 in flight on asyncio (AsyncClient vs aiobotocore): not measured" in text
    expected = [
        *(f"{row}: {what}" for row in cold for what in ("wall", "CPU", "peak RSS")),
        *cache,
        "CPU per 100-item page, in process (build, sign, parse)",
        *(f"{row}: {what}" for row in load for what in ("wall", "client CPU per page")),
    ]
    assert sorted(rows) == sorted(expected)
    for label, line in rows.items():
        if label in cache:  # with, without, and the difference (which may be negative)
            assert re.fullmatch(r"\| .+ \| [-\d.]+ \S+ \| [-\d.]+ \S+ \| -?[\d.]+ .+ \|", line), (
                line
            )
            continue
        ratio = re.search(r"\| (\d+\.\d\d)x( \(\d+\.\d\d-\d+\.\d\d\))? \|", line)
        assert ratio is not None, label
        assert float(ratio.group(1)) > 0, label
    # The headline states its conditions and carries the targets only on Lambda's Pythons.
    assert "no `HOME`" in text
    assert "`TMPDIR` an empty directory made afresh for" in text
    targeted = version in ("3.12", "3.13")
    headline = rows[f"{cold[0]}: wall"]
    assert ("≥ 2.3x" in headline) == targeted
    assert f"aws_sdk_cloudfront on Python {version}: not measured" in text
    assert re.search(r"`import cfinval` adds \*\*-?\d+\.\d ms\*\*", text)
    assert "The floor of this design" in text
    assert "## Why another measure gives another figure" in text
    assert done.stdout.startswith("| measurement |")  # the table is printed, too
