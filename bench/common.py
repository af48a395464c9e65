"""What the tree benchmarks share: deterministic values, a values file for the JS worker, and a
timer of one process (seconds, peak RSS, stdout)."""

import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_values(n: int) -> list[tuple[str, int]]:
    """n deterministic accounts (lower-case addresses) with varied stakes."""
    return [(f"0x{(i * 0x9E3779B97F4A7C15 + 1) % 2**160:040x}", 10**15 + i * 7_919) for i in range(n)]


def values_file(n: int, directory: Path) -> Path:
    """The values, for the JS worker: {"values": [[address, "stake"], ...]}."""
    path = directory / f"values-{n}.json"
    path.write_text(json.dumps({"values": [[a, str(s)] for a, s in make_values(n)]}))
    return path


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """(seconds, peak MiB, stdout) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024, out.strip()
