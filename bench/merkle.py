"""Time and peak memory to build the active set's sorted Merkle-sum tree and write its proofs file
(vvv.oracle.sumtree), next to @openzeppelin/merkle-tree building a standard tree of the same
(address, uint256) values and writing its dump, for 100,000 and 1,000,000 accounts. Also, for
information: reading the proofs file back and rebuilding the tree, in Python and with the web
page's JS module (web/src/sumtree.mjs), whose roots must equal the builder's.

    .venv/bin/python bench/merkle.py [--sizes 100000 1000000]

Every measurement is its own process (wall time of the whole process, peak RSS from wait4).
This process never holds the values: Linux carries a parent's peak RSS over into a child's
(fork, then exec), so the values file is written by a helper process too. Targets at each size:
at least 10x faster than @openzeppelin/merkle-tree, under 700 MB."""

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, measure  # noqa: E402 (bench/common.py: the same values and timer)

SPEED_UP = 10
PEAK_BYTES = 700 * 10**6

# The builder makes the values itself, as the oracle gets them from the database and the chain.
BUILD = """
import sys
sys.path.insert(0, "bench")
from common import make_values
from vvv.oracle.sumtree import SumTree, write_proofs_file
tree = SumTree.from_stakes(dict(make_values(int(sys.argv[1]))))
report = {"chain_id": 1, "oracle": "0x" + "00" * 20, "epoch": 1, "snapshot": 172799, "utilization_bps": 0,
          "consumed_vcu": "0", "capacity_of_epoch": "1", "capacity": "1", "active_root": tree.root_hex,
          "total_active_stake": str(tree.total), "active_count": tree.count}
write_proofs_file(sys.argv[2], tree, report)
print(tree.root_hex)
"""

VALUES = """
import sys
from pathlib import Path
sys.path.insert(0, "bench")
from common import values_file
values_file(int(sys.argv[1]), Path(sys.argv[2]))
"""

READ = """
import sys
from vvv.oracle.sumtree import read_proofs_file
print(read_proofs_file(sys.argv[1]).tree.root_hex)
"""

JS_READ = """
import { readFileSync } from "node:fs";
import { rootOf } from "%s";
const { leaves, report } = JSON.parse(readFileSync(process.argv[1], "utf8"));
const { root, total, count } = rootOf(leaves);
if (String(total) !== report.total_active_stake || count !== report.active_count) process.exit(3);
process.stdout.write(root + "\\n");
"""


def agrees(root: str, expected: str) -> str:
    return "same" if root == expected else f"DIFFERS: {root}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    table = Table(title="Active-set tree: build + write the proofs file (each row its own process)")
    for column in ("accounts", "implementation", "seconds", "peak MiB", "speed-up", "root"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    verdicts = []
    js_read = JS_READ % (ROOT / "web" / "src" / "sumtree.mjs").as_uri()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n in args.sizes:
            values = directory / f"values-{n}.json"
            measure([sys.executable, "-c", VALUES, str(n), str(directory)])
            proofs = directory / f"sumtree-{n}.json"
            oz = measure(["node", "--max-old-space-size=8192", str(ROOT / "tools" / "oz_merkle_dump.js"),
                          str(values), str(directory / f"oz-{n}.json")])  # fmt: skip
            values.unlink()
            ours = measure([sys.executable, "-c", BUILD, str(n), str(proofs)])
            py_read = measure([sys.executable, "-c", READ, str(proofs)])
            js = measure(["node", "--max-old-space-size=8192", "--input-type=module", "-e", js_read, str(proofs)])
            speed_up = oz[0] / ours[0]
            met = speed_up >= SPEED_UP and ours[1] * 2**20 < PEAK_BYTES
            verdicts.append((n, speed_up, ours[1], met))
            rows = [
                ("@openzeppelin/merkle-tree (standard tree)", oz, "", "(other tree)"),
                ("vvv sumtree: build + write (Python)", ours, f"{speed_up:.1f}x", ours[2][:10] + "…"),
                ("  read + rebuild + check (Python)", py_read, "", agrees(py_read[2], ours[2])),
                ("  read + rebuild (JS, web/src/sumtree.mjs)", js, "", agrees(js[2], ours[2])),
            ]
            for name, (seconds, peak, _), ratio, root in rows:
                table.add_row(f"{n:,}", name, f"{seconds:.1f}", f"{peak:,.0f}", ratio, root)
    console = Console(width=150)
    console.print(table)
    for n, speed_up, peak, met in verdicts:
        console.print(
            f"{n:,} accounts: {speed_up:.1f}x faster (target >= {SPEED_UP}x), peak {peak * 2**20 / 1e6:,.0f} MB "
            f"(target < {PEAK_BYTES // 10**6} MB): " + ("met" if met else "NOT met")
        )
    return 0 if all(met for *_, met in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
