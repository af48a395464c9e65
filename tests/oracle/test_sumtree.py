"""The sorted Merkle-sum tree (vvv.oracle.sumtree) and its JS verifier (web/src/sumtree.mjs).

Expected hashes come from SPEC's words through eth_abi + eth_utils.keccak (`ref_*`, in
tests/sumtree_reference.py), an
implementation independent of the code under test: it builds the full padded tree as lists of
`(hash, sum)` pairs. The hypothesis test checks that the Python builder, this reference and the
JS verifier (one node process for the whole module) agree on random trees."""

import json
import subprocess
from pathlib import Path

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.passes import IN_PROCESS
from tests.sumtree_reference import E, Z, ref_leaf, ref_levels, ref_node, ref_proof, ref_verify
from vvv.oracle.sumtree import (
    SumProof,
    SumTree,
    SumTreeError,
    read_proofs_file,
    verify_proof,
    write_proofs_file,
)

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

ROOT = Path(__file__).resolve().parents[2]
JS_MODULE = ROOT / "web" / "src" / "sumtree.mjs"


# ---------------------------------------------------------------------------------------------
# The reference: SPEC's words, with eth_abi


def addr(i):
    return f"0x{i:040x}"


A, B, C, D, F = (addr(0xABCDEF0123 * k) for k in range(1, 6))  # ascending, with hex letters
SA, SB, SC, SD, SF = 5 * 10**18, 7, 2**200, 11 * 10**17, 3


def sibs(proof):
    return [(h, s) for h, s in proof.siblings]


# ---------------------------------------------------------------------------------------------
# Hand-worked trees


def test_one_leaf():
    tree = SumTree.build([(A, SA)])
    assert (tree.root, tree.total, tree.count, tree.depth) == (ref_leaf(A, SA), SA, 1, 0)
    assert tree.proof(0) == SumProof(0, ())
    assert verify_proof(A, SA, tree.proof(0), ref_leaf(A, SA), SA, 1)


def test_two_leaves():
    la, lb = (ref_leaf(A, SA), SA), (ref_leaf(B, SB), SB)
    top = ref_node(la, lb)
    tree = SumTree.build([(A, SA), (B, SB)])
    assert (tree.root, tree.total, tree.depth) == (top[0], SA + SB, 1)
    assert sibs(tree.proof(0)) == [lb]
    assert sibs(tree.proof(1)) == [la]
    for position, (account, stake) in enumerate([(A, SA), (B, SB)]):
        assert verify_proof(account, stake, tree.proof(position), top[0], SA + SB, 2)


def test_three_leaves_pad_with_one_empty_leaf():
    la, lb, lc = (ref_leaf(A, SA), SA), (ref_leaf(B, SB), SB), (ref_leaf(C, SC), SC)
    ab, ce = ref_node(la, lb), ref_node(lc, E)
    top = ref_node(ab, ce)
    assert top[1] == SA + SB + SC
    tree = SumTree.build([(A, SA), (B, SB), (C, SC)])
    assert (tree.root_hex, tree.total, tree.count, tree.depth) == ("0x" + top[0].hex(), top[1], 3, 2)
    assert [sibs(tree.proof(p)) for p in range(3)] == [[lb, ce], [la, ce], [E, ab]]
    assert tree.node(0, 3) == E
    for position, (account, stake) in enumerate([(A, SA), (B, SB), (C, SC)]):
        assert verify_proof(account, stake, tree.proof(position), top[0], top[1], 3)


def five():
    """The 5-leaf tree by hand: depth 3, leaves 5..7 empty, and the node over leaves 6 and 7 is
    keccak256(abi.encode(0, 0, 0, 0)) with sum 0 (padding is hashed, not zero)."""
    ls = [(ref_leaf(a, s), s) for a, s in [(A, SA), (B, SB), (C, SC), (D, SD), (F, SF)]]
    n01, n23, n4e = ref_node(ls[0], ls[1]), ref_node(ls[2], ls[3]), ref_node(ls[4], E)
    nee = (keccak(b"\x00" * 128), 0)
    m0, m1 = ref_node(n01, n23), ref_node(n4e, nee)
    top = ref_node(m0, m1)
    proofs = [
        [ls[1], n23, m1],
        [ls[0], n23, m1],
        [ls[3], n01, m1],
        [ls[2], n01, m1],
        [E, nee, m0],
    ]
    return [(A, SA), (B, SB), (C, SC), (D, SD), (F, SF)], top, proofs


def test_five_leaves_every_proof():
    leaves, top, proofs = five()
    tree = SumTree.build(leaves)
    assert (tree.root, tree.total, tree.count, tree.depth) == (top[0], SA + SB + SC + SD + SF, 5, 3)
    assert tree.node(1, 3) == (keccak(b"\x00" * 128), 0)
    for position, (account, stake) in enumerate(leaves):
        proof = tree.proof(position)
        assert proof == SumProof(position, tuple(proofs[position]))
        assert SumProof.from_json(json.loads(json.dumps(proof.to_json()))) == proof
        assert verify_proof(account, stake, proof, top[0], top[1], 5)
        assert verify_proof(account, stake, proof, "0x" + top[0].hex(), top[1], 5)
        assert tree.position_of(account.upper().replace("0X", "0x")) == position
        assert (tree.account(position), tree.stake(position)) == (account, stake)
    assert list(tree.leaves()) == leaves


def test_bad_proofs_are_rejected():
    leaves, (root, total), _ = five()
    tree = SumTree.build(leaves)
    good = tree.proof(2)
    siblings = list(good.siblings)
    assert verify_proof(C, SC, good, root, total, 5)
    # wrong sums
    assert not verify_proof(C, SC + 1, good, root, total, 5)
    assert not verify_proof(C, SC, good, root, total + 1, 5)
    assert not verify_proof(C, SC, SumProof(2, (siblings[0], (siblings[1][0], siblings[1][1] + 1), siblings[2])),
                            root, total, 5)  # fmt: skip
    # wrong sibling hash, wrong account
    assert not verify_proof(C, SC, SumProof(2, ((keccak(b"x"), siblings[0][1]), *siblings[1:])), root, total, 5)
    assert not verify_proof(D, SC, good, root, total, 5)
    # wrong position: another real position, and the padding past the count
    assert not verify_proof(C, SC, SumProof(3, good.siblings), root, total, 5)
    assert not verify_proof(C, SC, SumProof(6, good.siblings), root, total, 5)
    # the true path of leaf 4 holds, but a proof of the empty leaf 5 is refused: position >= count
    assert verify_proof(F, SF, tree.proof(4), root, total, 5)
    assert not verify_proof(F, SF, SumProof(5, tree.proof(4).siblings), root, total, 5)
    # wrong length: one sibling short, one too many, or a count implying another depth
    assert not verify_proof(C, SC, SumProof(2, good.siblings[:2]), root, total, 5)
    assert not verify_proof(C, SC, SumProof(2, (*good.siblings, E)), root, total, 5)
    assert not verify_proof(C, SC, good, root, total, 4)
    assert not verify_proof(C, SC, good, root, total, 0)
    # a sibling sum that overflows uint256 is refused, not wrapped
    assert not verify_proof(C, SC, SumProof(2, (siblings[0], (siblings[1][0], 2**256 - 1), siblings[2])),
                            root, total, 5)  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: verify_proof("0x12", 1, SumProof(0, ()), Z, 1, 1), "account '0x12' is not a 20-byte hex address"),
        (lambda: verify_proof(A, -1, SumProof(0, ()), Z, 1, 1), "stake -1 is not a uint256"),
        (lambda: verify_proof(A, 2**256, SumProof(0, ()), Z, 1, 1), "is not a uint256"),
        (lambda: verify_proof(A, 1, SumProof(0, ()), "0x12", 1, 1), "root '0x12' is not 32 bytes"),
        (lambda: verify_proof(A, 1, SumProof("0", ()), Z, 1, 1), "proof position '0' is not an integer"),
        (lambda: SumProof.from_json({"position": 0, "siblings": [["0x12", "1"]]}), "sibling hash '0x12' is not 32"),
        (
            lambda: SumProof.from_json({"position": 0, "siblings": [["0x" + "00" * 32, "01"]]}),
            "sibling sum '01' is not a decimal integer",
        ),
        (lambda: SumProof.from_json({"position": -1, "siblings": []}), "position -1 is not a non-negative"),
    ],
)
def test_malformed_arguments_raise_one_line(call, message):
    with pytest.raises(SumTreeError, match=message) as err:
        call()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("leaves", "message"),
    [
        (
            [(B, 1), (A, 1)],
            f"leaf 1: account below the previous one {A} \\(leaves must be sorted strictly ascending\\)",
        ),
        ([(A, 1), (C, 1), (B, 1)], f"leaf 2: account below the previous one {B}"),
        ([(A, 1), (A, 2)], f"leaf 1: duplicate account {A}"),
        ([("0x" + "ab" * 20, 1), ("0x" + "AB" * 20, 2)], "leaf 1: duplicate account 0x" + "ab" * 20),
        ([(A, 0)], f"leaf 0: stake 0 of {A} is not in 1 .. 2\\*\\*256-1"),
        ([(A, 2**256)], "leaf 0: stake .* is not in 1"),
        ([(A, "5")], "leaf 0: stake '5' of"),
        ([(A, True)], "leaf 0: stake True of"),
        ([(A, 2**255), (B, 2**255)], f"total stake {2**256} does not fit in uint256"),
        ([(A, 1), ("0x" + "g" * 40, 1)], "leaf 1: account '0xggg.*' is not a 20-byte hex address"),
        ([(A, 1), ("0x" + "0" * 39 + " ", 1)], "leaf 1: account .* is not a 20-byte hex address"),
        ([(A, 1), (B[:-1], 1)], "leaf 1: account .* is not a 20-byte hex address"),
    ],
)
def test_bad_leaves_are_refused_with_one_line(leaves, message):
    with pytest.raises(SumTreeError, match=message) as err:
        SumTree.build(leaves)
    assert "\n" not in str(err.value)


def test_from_stakes_sorts_and_refuses_case_twins():
    assert list(SumTree.from_stakes({C: 3, A: 1, B.upper().replace("0X", "0x"): 2}).leaves()) == [
        (A, 1),
        (B, 2),
        (C, 3),
    ]
    with pytest.raises(SumTreeError, match="leaf 1: duplicate account 0x" + "ab" * 20):
        SumTree.from_stakes({"0x" + "ab" * 20: 1, "0x" + "AB" * 20: 1})
    with pytest.raises(SumTreeError, match="leaf 0: account 7 is not a 20-byte hex address"):
        SumTree.from_stakes({7: 1})


def test_empty_set():
    tree = SumTree.build([])
    assert (tree.root, tree.root_hex, tree.total, tree.count, tree.depth) == (Z, "0x" + "00" * 32, 0, 0, 0)
    assert list(tree.leaves()) == []
    assert tree.position_of(A) is None and tree.insertion_point(A) == 0
    with pytest.raises(SumTreeError, match="no leaf at position 0 \\(the tree has 0 leaves\\)"):
        tree.proof(0)
    assert not verify_proof(A, 1, SumProof(0, ()), Z, 0, 0)


def test_lookup_brackets_an_absent_account():
    leaves, _, _ = five()
    tree = SumTree.build(leaves)
    between_b_and_c = addr(int(B, 16) + 1)
    assert tree.position_of(between_b_and_c) is None
    assert tree.insertion_point(between_b_and_c) == 2  # leaves 1 (B) and 2 (C) bracket it
    assert tree.insertion_point(addr(0)) == 0 and tree.insertion_point(addr(2**160 - 1)) == 5
    with pytest.raises(SumTreeError, match="no leaf at position 5 "):
        tree.proof(5)
    with pytest.raises(SumTreeError, match="no node 8 at level 0 in a tree of depth 3"):
        tree.node(0, 8)


# ---------------------------------------------------------------------------------------------
# The proofs file


def report_of(root, total, count, **changes):
    return {"chain_id": 1337, "oracle": addr(0xAB), "epoch": 20_000, "snapshot": 20_001 * 86_400 - 1,
            "utilization_bps": 1_000, "consumed_vcu": "18148", "capacity_of_epoch": "181480", "capacity": "190000",
            "active_root": root, "total_active_stake": str(total), "active_count": count} | changes  # fmt: skip


def test_proofs_file_exact_text(tmp_path):
    root = "0x" + ref_node((ref_leaf(A, SA), SA), (ref_leaf(B, SB), SB))[0].hex()
    report = report_of(root, SA + SB, 2)
    path = write_proofs_file(tmp_path / "1337" / "20000.json", SumTree.build([(A, SA), (B, SB)]), report)
    assert path.read_text() == (
        '{"format":"vvv-sorted-merkle-sum-v1","leafEncoding":["address","uint256"],"report":{"chain_id":1337,'
        f'"oracle":"{addr(0xAB)}","epoch":20000,"snapshot":1728086399,"utilization_bps":1000,'
        '"consumed_vcu":"18148","capacity_of_epoch":"181480","capacity":"190000",'
        f'"active_root":"{root}","total_active_stake":"5000000000000000007","active_count":2}},'
        f'"leaves":[["{A}","5000000000000000000"],["{B}","7"]]}}'
    )
    assert [p.name for p in path.parent.iterdir()] == ["20000.json"]  # no temporary file left


@pytest.mark.parametrize("chunk", [1, 3, 10, 8_192])
def test_proofs_file_round_trip_across_chunks(tmp_path, chunk):
    leaves = [(addr(7 * i + 1), 10**15 * i + 1) for i in range(10)]
    tree = SumTree.build(leaves)
    levels = ref_levels(leaves)
    path = write_proofs_file(tmp_path / "p.json", tree, report_of(tree.root_hex.upper().replace("0X", "0x"),
                                                                   tree.total, 10), chunk=chunk)  # fmt: skip
    assert json.loads(path.read_text())["leaves"] == [[a, str(s)] for a, s in leaves]
    read = read_proofs_file(path)
    assert (read.tree.root, read.tree.total, read.tree.count) == (levels[-1][0][0], levels[-1][0][1], 10)
    assert read.report["epoch"] == 20_000
    for position, (account, stake) in enumerate(leaves):
        assert read.proof(account) == (stake, SumProof(position, tuple(ref_proof(levels, position))))
    assert read.proof(addr(2)) is None


def test_empty_proofs_file(tmp_path):
    path = write_proofs_file(tmp_path / "e.json", SumTree.build([]), report_of("0x" + "00" * 32, 0, 0))
    assert json.loads(path.read_text())["leaves"] == []
    read = read_proofs_file(path)
    assert (read.tree.count, read.tree.root, read.proof(A)) == (0, Z, None)


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"active_root": "0x" + "11" * 32}, "report's active_root 0x1111.* is not the tree's root 0x"),
        ({"total_active_stake": "8"}, "report's total_active_stake 8 is not the tree's 12"),
        ({"total_active_stake": "012"}, "report's total_active_stake '012' is not a decimal integer"),
        ({"active_count": 3}, "report's active_count 3 is not the tree's 2"),
        ({"extra": 1}, "report fields: missing \\[\\], unexpected \\['extra'\\]"),
    ],
)
def test_writer_refuses_a_report_that_is_not_the_trees(tmp_path, report, message):
    tree = SumTree.build([(A, 5), (B, 7)])
    with pytest.raises(SumTreeError, match=message):
        write_proofs_file(tmp_path / "x.json", tree, report_of(tree.root_hex, 12, 2) | report)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_writer_refuses_a_missing_field(tmp_path):
    tree = SumTree.build([(A, 5)])
    report = report_of(tree.root_hex, 5, 1)
    del report["oracle"]
    with pytest.raises(SumTreeError, match="report fields: missing \\['oracle'\\], unexpected \\[\\]"):
        write_proofs_file(tmp_path / "x.json", tree, report)
    assert list(tmp_path.iterdir()) == []


def tampered(tmp_path, edit):
    tree = SumTree.build([(A, 5), (B, 7), (C, 9)])
    path = write_proofs_file(tmp_path / "t.json", tree, report_of(tree.root_hex, 21, 3))
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["leaves"][1].__setitem__(1, "8"), "report's active_root .* is not the tree's root"),
        (lambda d: d["leaves"].pop(), "report's active_root .* is not the tree's root"),
        (lambda d: d["leaves"].reverse(), "leaf 1: account below the previous one"),
        (lambda d: d["leaves"].__setitem__(1, d["leaves"][0]), "leaf 1: duplicate account"),
        (lambda d: d["leaves"][0].__setitem__(1, 5), "leaf 0 is not \\[account, decimal stake string\\]"),
        (lambda d: d["leaves"][0].__setitem__(1, "5e0"), "leaf 0: stake '5e0' is not a decimal integer"),
        (lambda d: d["leaves"][0].__setitem__(1, " 5"), "leaf 0: stake ' 5' is not a decimal integer"),
        (lambda d: d["leaves"][0].__setitem__(1, "0"), "leaf 0: stake 0 of"),
        (lambda d: d.__setitem__("format", "standard-v1"), "format is 'standard-v1', expected 'vvv-sorted-merkle"),
        (lambda d: d.__setitem__("leafEncoding", ["address"]), "leafEncoding is \\['address'\\]"),
        (lambda d: d.pop("report"), "no report object"),
        (lambda d: d.pop("leaves"), "no leaves list"),
        (lambda d: d["report"].__setitem__("active_count", 4), "report's active_count 4 is not the tree's 3"),
        (lambda d: d["report"].__setitem__("total_active_stake", "22"), "total_active_stake 22 is not the tree's 21"),
    ],
)
def test_reader_refuses_a_tampered_file(tmp_path, edit, message):
    path = tampered(tmp_path, edit)
    with pytest.raises(SumTreeError, match=message) as err:
        read_proofs_file(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_reader_refuses_a_missing_or_broken_file(tmp_path):
    with pytest.raises(SumTreeError, match="no proofs file"):
        read_proofs_file(tmp_path / "none.json")
    (tmp_path / "b.json").write_text('{"format": ')
    with pytest.raises(SumTreeError, match="b.json: not JSON"):
        read_proofs_file(tmp_path / "b.json")


# ---------------------------------------------------------------------------------------------
# Python, reference and JS agree on random trees

JS_WORKER = """
import { buildTree, verifyProof } from %s;
import { createInterface } from "node:readline";
for await (const line of createInterface({ input: process.stdin })) {
  let out;
  try {
    const { leaves, cases } = JSON.parse(line);
    const tree = buildTree(leaves);
    out = { root: tree.root, total: String(tree.total), count: tree.count,
            proofs: leaves.map((_, i) => tree.proof(i).siblings),
            verdicts: cases.map((c) => verifyProof(...c)) };
  } catch (err) {
    out = { error: err.message };
  }
  process.stdout.write(JSON.stringify(out) + "\\n");
}
"""


@pytest.fixture(scope="module")
def js():
    """Ask the JS module about one tree per call; one node process for the whole module."""
    source = JS_WORKER % json.dumps(JS_MODULE.as_uri())
    process = subprocess.Popen(["node", "--input-type=module", "-e", source], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip

    def ask(leaves, cases):
        process.stdin.write(json.dumps({"leaves": [[a, str(s)] for a, s in leaves], "cases": cases}) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    yield ask
    process.stdin.close()
    assert process.wait(timeout=10) == 0


def test_js_agrees_on_a_hand_worked_tree_and_refuses_bad_input(js):
    leaves, top, proofs = five()
    answer = js(leaves, [[A, str(SA), 0, [["0x" + h.hex(), str(s)] for h, s in proofs[0]], "0x" + top[0].hex(),
                          str(top[1]), 5]])  # fmt: skip
    assert (answer["root"], answer["total"], answer["count"]) == ("0x" + top[0].hex(), str(top[1]), 5)
    assert answer["proofs"] == [[["0x" + h.hex(), str(s)] for h, s in p] for p in proofs]
    assert answer["verdicts"] == [True]
    assert js([(B, 1), (A, 1)], []) == {"error": f"leaf 1: unsorted account {A}"}
    assert js([(A, 1), (A, 1)], []) == {"error": f"leaf 1: duplicate account {A}"}
    assert js([(A, 0)], []) == {"error": "leaf 0: stake 0"}
    assert js([], []) == {"root": "0x" + "00" * 32, "total": "0", "count": 0, "proofs": [], "verdicts": []}
    assert js([(A, 1)], [["0x12", "1", 0, [], "0x" + "00" * 32, "1", 1]]) == {"error": "0x12 is not an address"}


def cases_for(leaves, levels):
    """Every honest proof, and for each position a proof with one lie (stake, position, sibling
    sum, sibling hash, length, a count implying another depth): (account, stake, position,
    siblings, root, total, count, honest)."""
    root, total = levels[-1][0] if leaves else (Z, 0)
    n, out = len(leaves), []
    for p, (account, stake) in enumerate(leaves):
        siblings = ref_proof(levels, p)
        variants = [(stake, p, siblings, n, True), (stake + 1, p, siblings, n, False),
                    (stake, p + 1, siblings, n, False), (stake, p, [*siblings, E], n, False),
                    (stake, p, siblings, 2 * 2 ** len(siblings), False)]  # fmt: skip
        if siblings:
            (h, s), rest = siblings[-1], siblings[:-1]
            variants += [(stake, p, [*rest, (h, s + 1)], n, False), (stake, p, [*rest, (keccak(h), s)], n, False),
                         (stake, p, rest, n, False), (stake, p ^ 1, siblings, n, False)]  # fmt: skip
        out += [(account, st_, pos, sib, root, total, count, honest) for st_, pos, sib, count, honest in variants]
    return out


leaf_sets = st.lists(st.integers(0, 2**160 - 1), unique=True, max_size=33).flatmap(
    lambda accounts: st.tuples(
        st.just(sorted(accounts)),
        st.lists(
            st.one_of(st.integers(1, 2**64), st.integers(1, 2**250)), min_size=len(accounts), max_size=len(accounts)
        ),
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaf_sets)
def test_python_reference_and_js_agree_on_random_trees(js, leaf_set):
    accounts, stakes = leaf_set
    leaves = [(addr(a), s) for a, s in zip(accounts, stakes, strict=True)]
    tree = SumTree.build(leaves)
    levels = ref_levels(leaves) if leaves else None
    root, total = levels[-1][0] if levels else (Z, 0)
    assert (tree.root, tree.total, tree.count) == (root, total, len(leaves))
    assert [sibs(tree.proof(p)) for p in range(len(leaves))] == [ref_proof(levels, p) for p in range(len(leaves))]
    cases = cases_for(leaves, levels)
    python = [verify_proof(a, s, SumProof(p, tuple(sib)), r, t, n) for a, s, p, sib, r, t, n, _ in cases]
    reference = [ref_verify(a, s, p, sib, r, t, n) for a, s, p, sib, r, t, n, _ in cases]
    answer = js(leaves, [[a, str(s), p, [["0x" + h.hex(), str(x)] for h, x in sib], "0x" + r.hex(), str(t), n]
                         for a, s, p, sib, r, t, n, _ in cases])  # fmt: skip
    assert (answer["root"], answer["total"], answer["count"]) == ("0x" + root.hex(), str(total), len(leaves))
    assert answer["proofs"] == [[["0x" + h.hex(), str(s)] for h, s in ref_proof(levels, p)] for p in range(len(leaves))]
    assert python == reference == answer["verdicts"] == [honest for *_, honest in cases]
