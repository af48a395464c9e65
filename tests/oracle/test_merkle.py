"""The Python StandardMerkleTree against @openzeppelin/merkle-tree (run with node): same root,
proofs and standard-v1 dump; the streamed proofs file parses to the same dump."""

import json
import random
import subprocess
from pathlib import Path

import pytest

from vvv.oracle.merkle import MerkleError, StandardMerkleTree, verify
from vvv.oracle.proofs import ProofsFile, ReportData, write_proofs

ROOT = Path(__file__).resolve().parents[2]


def oz(values):
    out = subprocess.run(
        ["node", str(ROOT / "tools" / "oz_merkle.js")],
        input=json.dumps({"values": [[a, str(s)] for a, s in values]}),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 257])
def test_same_as_openzeppelin(n):
    rng = random.Random(n)
    values = [(f"0x{rng.getrandbits(160):040x}", rng.choice([1, 10**15, rng.getrandbits(96), 2**256 - 1]))
              for _ in range(n)]  # fmt: skip
    tree, ref = StandardMerkleTree.of(values), oz(values)
    assert tree.root_hex == ref["root"]
    assert [tree.proof_hex(i) for i in range(n)] == ref["proofs"]
    assert tree.dump() == ref["dump"]
    for i, (account, stake) in enumerate(values):
        assert verify(ref["root"], account, stake, ref["proofs"][i])
        assert not verify(ref["root"], account, stake - 1 if stake else 1, ref["proofs"][i])


def test_streamed_proofs_file_is_the_openzeppelin_dump(tmp_path):
    values = [(f"0x{i:040x}", i * 10**15) for i in range(1, 40)]
    tree = StandardMerkleTree.of(values)
    report = ReportData(1, "0x" + "00" * 20, 5, 0, 0, 0, 1, 1, tree.root_hex, sum(s for _, s in values), len(values))
    data = json.loads(write_proofs(ProofsFile(report, tree), tmp_path).read_text())
    assert {k: v for k, v in data.items() if k != "report"} == oz(values)["dump"]
    assert data["report"]["active_root"] == tree.root_hex


def test_load_rejects_tampered_dumps():
    dump = StandardMerkleTree.of([(f"0x{i:040x}", i) for i in range(1, 6)]).dump()
    assert StandardMerkleTree.load(dump).root_hex == dump["tree"][0]
    bad = json.loads(json.dumps(dump))
    bad["values"][0]["value"][1] = "999"
    with pytest.raises(MerkleError, match="does not match leaf"):
        StandardMerkleTree.load(bad)
    bad = json.loads(json.dumps(dump))
    bad["tree"][0] = "0x" + "00" * 32
    with pytest.raises(MerkleError, match="not the hash of its children"):
        StandardMerkleTree.load(bad)
    with pytest.raises(MerkleError, match="at least one leaf"):
        StandardMerkleTree.of([])
    with pytest.raises(MerkleError, match="not an address"):
        StandardMerkleTree.of([("0x12", 1)])
