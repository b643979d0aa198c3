"""The benchmark runner keeps working (tiny counts: this checks the machinery, not the numbers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runner_measures_both_sdks_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "SMOKE RUN" in text
    rows = {
        line.split("|")[1].strip(): line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| measurement")
    }
    expected = [
        "cold start to first page, wall",
        "cold start to first page, CPU",
        "peak RSS of that process",
        "CPU per 100-item page, in process",
        "20 pages, sequential: wall",
        "20 pages, sequential: client CPU per request",
        "20 pages, 32 in flight (cfinval asyncio, boto3 32 threads): wall",
        "20 pages, 32 in flight (cfinval asyncio, boto3 32 threads): client CPU per request",
    ]
    assert sorted(rows) == sorted(expected)
    for label, line in rows.items():
        ratio = re.search(r"\| (\d+\.\d\d)x \|", line)
        assert ratio is not None, label
        assert float(ratio.group(1)) > 0, label
    assert re.search(r"`import cfinval` adds \*\*-?\d+\.\d ms\*\*", text)
    assert "The floor of this design" in text
    assert done.stdout.startswith("| measurement |")  # the table is printed, too
