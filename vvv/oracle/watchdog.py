"""The watchdog: for every pending report, read its published proofs file, check it against the
chain and the activity receipts it knows, and send the cheapest challenge that proves the first
lie it finds (SPEC, "EpochOracle"; `docs/oracle.md`, "Watchdog").

The file is read permissively: a lying oracle's tree may hold unsorted or duplicated leaves, a
zero stake, or a report whose total or count is not its tree's, all of which
`vvv.oracle.sumtree` (the honest builder and reader) refuses. So the watchdog rebuilds the tree
itself from the raw leaves in the file's order (`RawTree`, same hashing; the honest builder's
compact tree when it accepts the leaves), and the only test of the file is that this tree's top
hash is the report's `activeRoot` on chain: then every proof taken from it is accepted by the
contract.

Lies are looked for in the order of their challenge's gas, least first (measured on anvil for
one report holding four lies, tests/oracle/test_watchdog.py: challengeEmptyLeaf 37.5k,
challengeTotal 40.9k, challengeOrder 44.4k, challengeStake 47.9k): wrong count (one proof, or
an empty leaf's), wrong total (one proof), wrong order or duplicate (two proofs), wrong stake
(one proof and a checkpoint read; the watchdog reads every leaf's stake, batched through
Multicall3 at one block, `vvv.oracle.reads`), omission last (a signature
recovery, a role and a stake read, up to two proofs). Every challenge is estimated before it is
sent (`vvv.oracle.sending`): nothing is sent that the chain would refuse.

Data requests (`vvv.oracle.data_requests`): the watchdog answers every open request on a report
whose published file rebuilds to the root on chain (the path the file already holds); against a
report whose file is missing or does not rebuild to the root it files one request (bonded),
unless it holds the guardian role (then it rejects); and it resolves requests left unanswered
past their response window, which rejects their report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import snapshot_time
from vvv.oracle import data_requests
from vvv.oracle.proofs import proofs_path
from vvv.oracle.reads import ChainReads, chain_reads
from vvv.oracle.receipts import Receipt, ReceiptError, signer_of
from vvv.oracle.report import STATUS_PENDING
from vvv.oracle.sending import RefusedError, SendError, estimate_or_refuse, send_plain
from vvv.oracle.sumtree import (
    FORMAT,
    UINT256,
    ZERO_HASH,
    SumProof,
    SumTree,
    SumTreeError,
    depth_for,
    leaf_hash,
    node_hash,
)

ACTIVITY_WINDOW_EPOCHS = 7  # EpochOracle.ACTIVITY_WINDOW_EPOCHS: receipts of e-6 .. e count for e


class WatchdogError(ValueError):
    """A receipts file or a setting the watchdog cannot use (one line)."""


class RawTree:
    """The sorted Merkle-sum tree of leaves in the given order, whatever it is (unsorted,
    duplicated, zero stakes): SPEC's hashing and padding. Leaves the honest builder accepts
    (sorted strictly ascending, stakes > 0) are built by it (`SumTree`: compact, fast at a
    million leaves); any others here, every node kept in Python (levels[0] = the padded leaves)."""

    def __init__(self, leaves: list[tuple[str, int]]) -> None:
        self.leaves = leaves
        self.count = len(leaves)
        self.depth = depth_for(self.count)
        self.levels: list[list[tuple[bytes, int]]] = []
        try:
            self._fast: SumTree | None = SumTree.build(leaves)
            return
        except SumTreeError:
            self._fast = None
        level = [(leaf_hash(a, s), s) for a, s in leaves]
        level += [(ZERO_HASH, 0)] * ((1 << self.depth) - len(level) if leaves else 0)
        self.levels = [level]
        while len(level) > 1:
            level = [_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
            self.levels.append(level)

    def node(self, level: int, index: int) -> tuple[bytes, int]:
        """`(hash, sum)` of node `index` of `level` (0 = leaves), padding included."""
        return self._fast.node(level, index) if self._fast is not None else self.levels[level][index]

    @property
    def root(self) -> bytes:
        return self.node(self.depth, 0)[0] if self.count else ZERO_HASH

    @property
    def total(self) -> int:
        return self.node(self.depth, 0)[1] if self.count else 0

    def proof(self, position: int) -> SumProof:
        """The siblings of the node at `position` of the padded leaf level (an empty leaf too)."""
        return SumProof(position, tuple(self.node(lv, (position >> lv) ^ 1) for lv in range(self.depth)))

    def leaf_proof(self, position: int) -> tuple:
        """`EpochOracle.LeafProof` of the leaf at `position`: (account, stake, position, siblings)."""
        account, stake = self.leaves[position]
        return (account, stake, position, _nodes(self.proof(position)))


def _parent(left: tuple[bytes, int], right: tuple[bytes, int]) -> tuple[bytes, int]:
    return node_hash(left[0], left[1], right[0], right[1]), (left[1] + right[1]) % UINT256


def _nodes(proof: SumProof) -> list[tuple[bytes, int]]:
    return [(h, s) for h, s in proof.siblings]


@dataclass(frozen=True)
class Published:
    """A proofs file as published: its report fields and its leaves (lower-case accounts)."""

    report: dict[str, Any]
    leaves: list[tuple[str, int]]


def read_published(path: Path) -> Published:
    """Read a proofs file without judging its tree (see the module's notes); ValueError with one
    line when it is not a proofs file at all."""
    try:
        data = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise ValueError(f"{path}: no proofs file published") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} proofs file")
    report, raw = data.get("report"), data.get("leaves")
    if not isinstance(report, dict) or not isinstance(raw, list):
        raise ValueError(f"{path}: no report object or no leaves list")
    leaves = []
    for i, leaf in enumerate(raw):
        ok = isinstance(leaf, list) and len(leaf) == 2 and all(isinstance(x, str) for x in leaf)
        account, stake = (leaf[0].lower(), leaf[1]) if ok else ("", "")
        if not (ok and len(account) == 42 and account.startswith("0x") and _is_hex(account[2:])
                and stake.isascii() and stake.isdigit() and int(stake) < UINT256):  # fmt: skip
            raise ValueError(f"{path}: leaf {i} is not [account, decimal stake]: {leaf!r}"[:200])
        leaves.append((account, int(stake)))
    return Published(report, leaves)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Finding:
    """What the watchdog found in the report of `epoch`: `lie` is "" for an honest report, a
    kind of lie ("total", "count", "order", "stake", "omission") when one is proven, "unusable"
    when the published file cannot prove anything (`detail` says why). `challenge` names the
    function sent (or that would be sent, in a dry run), `txn_hash` its transaction."""

    epoch: int
    lie: str
    detail: str
    challenge: str = ""
    args: tuple = ()
    txn_hash: str = ""

    def line(self) -> str:
        if not self.lie:
            return f"epoch {self.epoch}: honest ({self.detail})"
        if self.lie == "unusable":
            if self.challenge == "reject":
                done = f"rejected as guardian: {self.txn_hash}" if self.txn_hash else "would reject as guardian"
                return f"epoch {self.epoch}: cannot check: {self.detail}; {done}"
            if self.challenge == "requestLeafAt":
                return f"epoch {self.epoch}: cannot check: {self.detail}: {self.txn_hash}"
            return f"epoch {self.epoch}: cannot check: {self.detail}"
        if self.lie == "withheld":
            return f"epoch {self.epoch}: {self.detail}; resolved, the report is rejected: {self.txn_hash}"
        sent = f"sent {self.challenge}: {self.txn_hash}" if self.txn_hash else f"would send {self.challenge}"
        return f"epoch {self.epoch}: lie ({self.lie}): {self.detail}; {sent}"


def pending_epochs(system: System) -> list[int]:
    """The epochs whose report is pending (posted, not rejected, in its window), oldest first."""
    o = system.oracle
    epoch, first, found = int(o.nextEpochToReport()) - 1, int(o.firstEpoch()), []
    while epoch >= first and int(o.reportStatus(epoch)) == STATUS_PENDING:
        found.append(epoch)
        epoch -= 1
    return found[::-1]


def _chain_report(system: System, epoch: int, reads: ChainReads) -> dict[str, Any]:
    r = reads.report(epoch)
    return {
        "chain_id": chain.chain_id,
        "oracle": system.oracle.address.lower(),
        "epoch": epoch,
        "snapshot": snapshot_time(epoch),
        "utilization_bps": int(r.utilizationBps),
        "capacity": int(r.capacity),
        "active_root": "0x" + bytes(r.activeRoot).hex(),
        "total_active_stake": int(r.totalActiveStake),
        "active_count": int(r.activeCount),
    }


def _file_differs(file_report: dict[str, Any], on_chain: dict[str, Any]) -> str:
    """The first report field of the file that is not the chain's, as one phrase; "" if none."""
    for key, value in on_chain.items():
        found = file_report.get(key)
        text = str(found).lower() if found is not None else None
        if text != str(value).lower():
            return f"the file's {key} is {found!r}, the chain's {value}"
    return ""


def find_lie(
    system: System,
    epoch: int,
    published: Published,
    receipts: Iterable[Receipt],
    reads: ChainReads | None = None,
    tree: RawTree | None = None,
) -> Finding:
    """The first lie in the report of `epoch` that `published` (its proofs file) and `receipts`
    prove, with the challenge's arguments; "unusable" when the file is not the published tree.
    Every chain read is made at one block (`reads`, default `chain_reads(system)`: batched
    through Multicall3 where there is one). `tree`: the file's leaves already built."""
    reads = reads or chain_reads(system)
    on_chain = _chain_report(system, epoch, reads)
    differs = _file_differs(published.report, on_chain)
    if differs:
        return Finding(epoch, "unusable", f"not the published tree ({differs}); no challenge possible from it")
    tree = tree or RawTree(published.leaves)
    if "0x" + tree.root.hex() != on_chain["active_root"]:
        return Finding(epoch, "unusable", f"its leaves rebuild to root 0x{tree.root.hex()}, not the chain's "
                       f"{on_chain['active_root']}; no challenge possible from it")  # fmt: skip
    n, count, total = tree.count, on_chain["active_count"], on_chain["total_active_stake"]
    if n > count:
        return Finding(epoch, "count", f"{n} leaves, the report says {count}: a leaf at position {n - 1}",
                       "challengeCount", (epoch, tree.leaf_proof(n - 1)))  # fmt: skip
    if n < count and depth_for(n) != depth_for(count):
        return Finding(epoch, "count", f"{n} leaves (depth {depth_for(n)}), the report says {count} "
                       f"(depth {depth_for(count)})", "challengeCount", (epoch, tree.leaf_proof(0)))  # fmt: skip
    if n < count:
        return Finding(epoch, "count", f"{n} leaves, the report says {count}: an empty leaf at position {n}",
                       "challengeEmptyLeaf", (epoch, n, _nodes(tree.proof(n))))  # fmt: skip
    if n and tree.total != total:
        return Finding(epoch, "total", f"the leaves add up to {tree.total}, the report says {total}",
                       "challengeTotal", (epoch, tree.leaf_proof(0)))  # fmt: skip
    accounts = [a for a, _ in published.leaves]
    for p in range(n - 1):
        if accounts[p] >= accounts[p + 1]:
            what = "duplicate" if accounts[p] == accounts[p + 1] else "out of order"
            return Finding(epoch, "order", f"leaves {p} and {p + 1} are {what} ({accounts[p]}, {accounts[p + 1]})",
                           "challengeOrder", (epoch, tree.leaf_proof(p), tree.leaf_proof(p + 1)))  # fmt: skip
    actual_stakes = reads.free_stakes_at(accounts, snapshot_time(epoch))
    for p, ((account, stake), actual) in enumerate(zip(published.leaves, actual_stakes, strict=True)):
        if stake != actual or stake == 0:
            return Finding(epoch, "stake", f"leaf {p} gives {account} a stake of {stake}, the chain {actual}",
                           "challengeStake", (epoch, tree.leaf_proof(p)))  # fmt: skip
    return _omission(system, epoch, tree, accounts, receipts, reads) or Finding(epoch, "", f"{n} leaves checked")


def _omission(system: System, epoch: int, tree: RawTree, accounts: list[str],
              receipts: Iterable[Receipt], reads: ChainReads) -> Finding | None:  # fmt: skip
    """A receipt of an account with stake at the snapshot that the (sorted) leaves leave out.
    The signers' roles and the accounts' stakes are read in batches, then the receipts are
    looked at in order."""
    o, members = system.oracle, set(accounts)
    chain_id, address = chain.chain_id, o.address
    candidates = []  # (receipt, account, signer): in the window, not a member, a valid signature
    for receipt in receipts:
        account = receipt.account.lower()
        if not epoch - ACTIVITY_WINDOW_EPOCHS < receipt.epoch <= epoch or account in members:
            continue
        try:
            candidates.append((receipt, account, signer_of(receipt, chain_id, address)))
        except ReceiptError:
            continue
    if not candidates:
        return None
    signers = sorted({s for _, _, s in candidates})
    roles = dict(zip(signers, reads.have_role(o.ACTIVITY_SIGNER_ROLE(), signers), strict=True))
    staked = sorted({a for _, a, s in candidates if roles[s]})
    stakes = dict(zip(staked, reads.free_stakes_at(staked, snapshot_time(epoch)), strict=True))
    for receipt, account, signer in candidates:
        if not roles[signer] or stakes[account] == 0:
            continue
        p = _insertion_point(accounts, account)
        n = len(accounts)
        bracket = [tree.leaf_proof(i) for i in (p - 1, p) if 0 <= i < n]
        return Finding(epoch, "omission", f"{account} used the API in epoch {receipt.epoch} (receipt signed by "
                       f"{signer}), had a stake at the snapshot and is not in the set", "challengeOmission",
                       (epoch, account, receipt.epoch, receipt.signature, bracket))  # fmt: skip
    return None


def _insertion_point(sorted_accounts: list[str], account: str) -> int:
    lo, hi = 0, len(sorted_accounts)
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_accounts[mid] < account:
            lo = mid + 1
        else:
            hi = mid
    return lo


def challenge(system: System, finding: Finding, sender: Any, *, dry_run: bool = False) -> Finding:
    """Send the challenge of `finding` from `sender` (a dry run only estimates it); the finding
    with its transaction hash. `RefusedError` (nothing sent) when the chain would refuse it."""
    if not finding.challenge:
        return finding
    method = getattr(system.oracle, finding.challenge)
    what = f"{finding.challenge} of epoch {finding.epoch}"
    if dry_run:
        estimate_or_refuse(method, finding.args, sender=sender, what=what)
        return finding
    return Finding(finding.epoch, finding.lie, finding.detail, finding.challenge, finding.args,
                   send_plain(method, finding.args, sender=sender, what=what))  # fmt: skip


def _escalate(system: System, finding: Finding, sender: Any, dry_run: bool) -> Finding:
    """An unusable finding: rejected by the guardian role when `sender` holds it, else a call for
    the guardian to reject it before it becomes final."""
    o = system.oracle
    if not o.hasRole(o.GUARDIAN_ROLE(), getattr(sender, "address", sender)):
        return Finding(
            finding.epoch, "unusable", f"{finding.detail}; ALERT: the guardian must reject it before it is final"
        )
    what = f"reject of epoch {finding.epoch}"
    try:
        if dry_run:
            estimate_or_refuse(o.reject, (finding.epoch,), sender=sender, what=what)
            return Finding(finding.epoch, "unusable", finding.detail, "reject", (finding.epoch,))
        txn_hash = send_plain(o.reject, (finding.epoch,), sender=sender, what=what)
    except (RefusedError, SendError) as err:
        return Finding(finding.epoch, "unusable", f"{finding.detail}; the guardian's reject failed: {err}")
    return Finding(finding.epoch, "unusable", finding.detail, "reject", (finding.epoch,), txn_hash)


def watch(
    system: System,
    sender: Any,
    receipts: Iterable[Receipt],
    *,
    reports_dir: Path | None = None,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
) -> list[Finding]:
    """Check every pending report once, oldest first, and challenge the first lie found (the
    reports after a rejected one are rejected with it: the run stops there). One line per report
    to `echo`. A report whose file is missing or unusable is said so and skipped."""
    receipts = list(receipts)
    findings: list[Finding] = []
    for epoch in pending_epochs(system):
        path = proofs_path(chain.chain_id, epoch, reports_dir)
        tree: RawTree | None = None
        try:
            published = read_published(path)
            tree = RawTree(published.leaves)
            finding = find_lie(system, epoch, published, receipts, tree=tree)
        except ValueError as err:
            finding = Finding(epoch, "unusable", str(err))
        if finding.lie != "unusable" and tree is not None and not dry_run:
            # the published tree is the one on chain: answer every open data request from it
            _answer_requests(system, epoch, tree, sender, echo)
        if finding.lie == "unusable":
            # a report whose tree is not published, or whose file is not the tree on chain, cannot be
            # proven wrong leaf by leaf (e.g. a node that hides an account): the guardian rejects it
            # when the watchdog holds the role; otherwise a data request makes the oracle publish a
            # path, and an unanswered one rejects the report
            escalated = _escalate(system, finding, sender, dry_run)
            if escalated.challenge or dry_run or system.data_requests is None:
                finding = escalated
            else:
                finding = _request_data(system, finding, sender)
        else:
            try:
                finding = challenge(system, finding, sender, dry_run=dry_run)
            except (RefusedError, SendError) as err:
                finding = Finding(epoch, "unusable", f"{finding.lie} lie found, but {err}")
        echo(finding.line())
        findings.append(finding)
        if not dry_run and not finding.txn_hash:
            for txn_hash in _resolve(system, epoch, sender, echo):
                finding = Finding(epoch, "withheld", "a data request went unanswered", "resolveRequest", (), txn_hash)
                findings.append(finding)
        if finding.txn_hash and finding.challenge != "requestLeafAt":
            break
    return findings


def _answer_requests(system: System, epoch: int, tree: RawTree, sender: Any, echo: Callable[[str], None]) -> None:
    for request in data_requests.open_requests(system, epoch):
        try:
            txn_hash = data_requests.answer(system, request, tree, sender)
            echo(f"epoch {epoch}: answered the {request.describe()}: {txn_hash}")
        except (RefusedError, SendError) as err:
            echo(f"epoch {epoch}: cannot answer the {request.describe()}: {err}")


def _request_data(system: System, finding: Finding, sender: Any) -> Finding:
    """File a data request against a report whose tree cannot be checked (none when one is open)."""
    try:
        txn_hash = data_requests.file_request(system, finding.epoch, sender)
    except (RefusedError, SendError) as err:
        return Finding(finding.epoch, "unusable", f"{finding.detail}; the data request failed: {err}")
    if txn_hash is None:
        return Finding(finding.epoch, "unusable", f"{finding.detail}; a data request on it is open or answered")
    return Finding(finding.epoch, "unusable", f"{finding.detail}; a data request asks for its tree",
                   "requestLeafAt", (finding.epoch, 0), txn_hash)  # fmt: skip


def _resolve(system: System, epoch: int, sender: Any, echo: Callable[[str], None]) -> list[str]:
    try:
        sent = data_requests.resolve_expired(system, epoch, sender)
    except (RefusedError, SendError) as err:
        echo(f"epoch {epoch}: cannot resolve an unanswered data request: {err}")
        return []
    for txn_hash in sent:
        echo(f"epoch {epoch}: a data request went unanswered; resolved, the report is rejected: {txn_hash}")
    return sent


def read_receipts(path: Path) -> list[Receipt]:
    """Receipts from a JSONL file (one `Receipt.to_json()` per line; blank lines skipped)."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise WatchdogError(f"{path}: cannot read receipts ({err})") from None
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            found.append(Receipt.from_json(json.loads(line)))
        except (json.JSONDecodeError, ReceiptError, AttributeError) as err:
            raise WatchdogError(f"{path}, line {number}: not a receipt ({err})") from None
    return found


# ---------------------------------------------------------------------------------------------
# The bot's check (bots/watchdog.py schedules it)


@dataclass
class WatchState:
    """What the watchdog bot keeps between checks (in Silverback's `bot.state`)."""

    system: System
    signer: Any
    reports_dir: Path | None = None
    receipts_file: Path | None = None
    checked: int = 0  # checks run
    challenges: int = 0  # challenges sent since start


def check_once(state: WatchState, echo: Callable[[str], None] = print) -> dict[str, int]:
    """One check of every pending report (see `watch`); Silverback metrics (numbers): the pending
    reports checked, the lies found, the challenges sent now and since start, unusable files.
    A failure (no node, an unreadable receipts file) is one line and counts as `errors`."""
    try:
        receipts = read_receipts(state.receipts_file) if state.receipts_file else []
        findings = watch(state.system, state.signer, receipts, reports_dir=state.reports_dir, echo=echo)
    except Exception as err:  # the next check retries; the line says what it was
        text = str(err).strip().splitlines()
        echo(f"watchdog check failed: {text[0] if text else type(err).__name__}")
        return {"errors": 1}
    sent = sum(bool(f.txn_hash) for f in findings)
    state.checked += 1
    state.challenges += sent
    return {
        "pending": len(findings),
        "lies": sum(f.lie not in ("", "unusable") for f in findings),
        "unusable": sum(f.lie == "unusable" for f in findings),
        "sent": sent,
        "challenges_total": state.challenges,
        "errors": 0,
    }
