"""The benchmark runner keeps working (tiny counts: this checks the machinery, not the numbers)."""

from __future__ import annotations

import importlib.util
import re
import shutil

import pytest

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
        if line.startswith("| ") and not line.startswith("| measurement")
    }
    cold = [
        "cold start to first page, HTTPS",
        "cold start to first page, plain HTTP",
        "cold start to first page, HTTPS, CA cache not yet built",
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
        "CPU per 100-item page, in process (build, sign, parse)",
        *(f"{row}: {what}" for row in load for what in ("wall", "client CPU per page")),
    ]
    assert sorted(rows) == sorted(expected)
    for label, line in rows.items():
        ratio = re.search(r"\| (\d+\.\d\d)x \|", line)
        assert ratio is not None, label
        assert float(ratio.group(1)) > 0, label
    assert re.search(r"`import cfinval` adds \*\*-?\d+\.\d ms\*\*", text)
    assert "The floor of this design" in text
    assert done.stdout.startswith("| measurement |")  # the table is printed, too
