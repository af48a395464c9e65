"""Time and peak memory to build the active-stakers tree and write its proofs file, for 100,000
and 1,000,000 accounts: this project's Python StandardMerkleTree next to @openzeppelin/merkle-tree
(node), on the same values (same root checked).

    .venv/bin/python bench/merkle.py [--sizes 100000 1000000]

Each implementation runs in its own process; peak memory is that process's max RSS."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent


def make_values(n: int) -> list[tuple[str, int]]:
    """n deterministic accounts (lower-case addresses) with varied stakes."""
    return [(f"0x{(i * 0x9E3779B97F4A7C15 + 1) % 2**160:040x}", 10**15 + i * 7_919) for i in range(n)]


# The Python worker makes the same values itself (the roots are compared), as the oracle gets
# them from the database and the chain rather than from a JSON file.
PY_WORKER = """
import sys
sys.path.insert(0, "bench")
from merkle import make_values
from vvv.oracle.merkle import StandardMerkleTree
from vvv.oracle.proofs import ProofsFile, ReportData, write_proofs
from pathlib import Path
values = make_values(int(sys.argv[1]))
tree = StandardMerkleTree.of(values)
del values
report = ReportData(chain_id=1, oracle="0x" + "00" * 20, epoch=1, snapshot=0, utilization_bps=0, consumed_vcu=0,
                    capacity_of_epoch=1, capacity=1, active_root=tree.root_hex,
                    total_active_stake=sum(s for _, s in tree.values), active_count=len(tree.values))
write_proofs(ProofsFile(report, tree), Path(sys.argv[2]))
print(tree.root_hex)
"""


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    table = Table(title="Active-stakers tree: build + write the proofs file")
    for column in ("accounts", "implementation", "seconds", "peak MiB", "speed-up", "same root"):
        table.add_column(column, justify="right")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n in args.sizes:
            values = values_file(n, directory)
            py = measure([sys.executable, "-c", PY_WORKER, str(n), str(directory / "py")])
            js = measure(["node", "--max-old-space-size=8192", str(ROOT / "tools" / "oz_merkle_dump.js"),
                          str(values), str(directory / f"oz-{n}.json")])  # fmt: skip
            same = py[2] == js[2]
            ok &= same and js[0] / py[0] >= 5 and py[1] < 700e6 / 2**20  # 700 MB
            table.add_row(f"{n:,}", "@openzeppelin/merkle-tree", f"{js[0]:.1f}", f"{js[1]:,.0f}", "", "")
            table.add_row(f"{n:,}", "vvv (Python)", f"{py[0]:.1f}", f"{py[1]:,.0f}", f"{js[0] / py[0]:.1f}x",
                          "yes" if same else "NO")  # fmt: skip
    Console().print(table)
    Console().print(
        "goal: at least 5x faster, under 700 MB (667.6 MiB) at 1,000,000 accounts, same root: "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
