"""The rights panel's pure part (web/src/rights.ts), run in node: its price against SPEC.md's
formula computed here as an exact rational integral (not from the code under test), the most a
budget buys, the allowance and the cap, why minting is impossible today, and the form checks (one
line each). One tsc compile and one node process: about 3 s, once per suite run (no chain)."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from fractions import Fraction
from math import ceil
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import once_per_suite_run

ROOT = Path(__file__).resolve().parents[2]
E18 = 10**18
DOMAIN_BITS = 100
SEED = 20261205
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's account 1, EIP-55 checksummed
BAD_CASE = ALICE.replace("C51", "c51")  # one letter's case changed: a wrong checksum


def exact_price(n: int, r: int, m: int, rcap: int, capacity: int, active: int, free: int) -> Fraction:
    """The integral of the marginal price base * (1 + 3 x / RCAP) over the n rights after the
    R + m already out, base = T_eff / (capacity - R), T_eff = max(active, 5 % of free)."""
    t_eff = max(Fraction(active), Fraction(free * 5, 100))
    a = r + m
    return t_eff / (capacity - r) * (n + Fraction(3, 2 * rcap) * ((a + n) ** 2 - a**2))


def _amount(rng: random.Random) -> int:
    return rng.getrandbits(rng.randint(0, DOMAIN_BITS))


def price_cases() -> list[tuple[int, ...]]:
    rng = random.Random(SEED)
    cases: list[tuple[int, ...]] = [
        (0, 5, 7, 11, 13, 17, 19),  # nothing costs nothing
        (1, 0, 0, 1, 1, 1, 0),  # 1 * (2 + 3) / 2 = 2.5 -> 3
        (10, 0, 0, 1_000, 2_000, 1_000, 0),  # 20,300 / 4,000 = 5.075 -> 6
        (E18, 0, 0, 90_000 * E18, 181_480 * E18, 30_000_000 * E18, 0),  # the first right, Venice-like
        (10 * E18, 0, 0, 2_000 * E18, 181_480 * E18, 400 * E18, 20_400 * E18),  # the floor above the active
    ]
    for _ in range(300):
        rcap = max(1, _amount(rng))
        r = _amount(rng)
        cases.append((_amount(rng), r, _amount(rng), rcap, r + max(1, _amount(rng)), _amount(rng), _amount(rng)))
    return cases


def run_ts(calls: dict[str, Any]) -> dict[str, Any]:
    """Compile web/src/rights.ts with tsc (into .build, so that node finds viem in node_modules)
    and run `calls` through it; every bigint crosses as a decimal string."""
    (ROOT / ".build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / ".build", prefix="rights-ts-") as out:
        compiled = subprocess.run(
            [ROOT / "node_modules/.bin/tsc", ROOT / "web/src/rights.ts", "--outDir", out, "--module", "es2022",
             "--target", "es2022", "--moduleResolution", "bundler", "--skipLibCheck"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        (Path(out) / "package.json").write_text('{"type": "module"}')  # the compiled files are ES modules
        module = Path(out) / "rights.js"
        result = subprocess.run(["node", Path(__file__).with_name("rights_ts.mjs"), module], input=json.dumps(calls),
                                capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


OPEN_DAY = {
    "epoch": 20, "paused": False, "source": "report", "final": True, "inActiveSet": True,
    "allowanceLeft": str(5 * E18), "capLeft": str(90 * E18), "freeStake": str(300 * E18), "pricedOk": True,
}  # fmt: skip
# (pricing market R, m, RCAP, capacity, active, free) of the budget cases: test_compute_rights' world
WORLD = [0, 0, 2_000 * E18, 181_480 * E18, 400 * E18, 20_400 * E18]
# (budget, limit): a right costs about 1,020 / 181,480 = 0.0056 VVV here
AFFORD = [(0, 100 * E18), (10**17, 100 * E18), (10**22, 100 * E18), (3 * 10**20, 5 * E18), (7, 10**6)]


@pytest.fixture(scope="module")
def ts() -> dict[str, Any]:
    once_per_suite_run()
    why = [OPEN_DAY] + [
        OPEN_DAY | change
        for change in (
            {"paused": True}, {"source": "fallback"}, {"source": "not yet known"}, {"final": False},
            {"pricedOk": False}, {"inActiveSet": False}, {"allowanceLeft": "0"}, {"capLeft": "0"}, {"freeStake": "0"},
        )
    ]  # fmt: skip
    calls = {
        "price": [list(map(str, c)) for c in price_cases()],
        "afford": [[list(map(str, WORLD)), str(b), str(limit)] for b, limit in AFFORD],
        "allowance": [
            [str(100 * E18), str(300 * E18), str(400 * E18)],
            [str(100 * E18), "1", str(3 * E18)],
            ["5", "1", "0"],
        ],
        "capLeft": [
            [str(2_000 * E18), str(100_000 * E18), "0"],
            [str(2_000 * E18), str(1_000 * E18), str(400 * E18)],
            ["100", "100", "60"],
        ],  # fmt: skip
        "why": why,
        "account": [
            ["", ALICE.lower()],
            [ALICE, ALICE],
            [ALICE.lower(), ALICE],
            [BAD_CASE, ALICE],
            ["0x7099797", ALICE],
            ["0x" + "0" * 40, ALICE],
            ["0x70997970C51812dc3A010C7d01b50e0d17dc79Cg", ALICE],
            ["  " + ALICE.upper().replace("0X", "0x") + " ", ALICE],
        ],
        "mint": [
            ["10", OPEN_DAY, None],
            ["", OPEN_DAY, None],
            ["-1", OPEN_DAY, None],
            ["1.0000000000000000001", OPEN_DAY, None],
            ["abc", OPEN_DAY, None],
            ["0", OPEN_DAY, None],
            ["5.000000000000000001", OPEN_DAY, None],
            ["5", OPEN_DAY | {"capLeft": str(4 * E18)}, None],
            ["1", OPEN_DAY, str(300 * E18 + 1)],
            ["1", OPEN_DAY | {"final": False}, None],
        ],
        "repay": [
            ["2", str(5 * E18), str(5 * E18)],
            ["2", "0", str(5 * E18)],
            ["6", str(5 * E18), str(9 * E18)],
            ["2", str(5 * E18), str(E18)],
        ],  # fmt: skip
        "activate": [
            ["3", "", ALICE, str(5 * E18)],
            ["3", "0x1234", ALICE, str(5 * E18)],
            ["6", "0x" + "ab" * 20, ALICE, str(5 * E18)],
        ],  # fmt: skip
    }
    return run_ts(calls)


def test_the_price_is_the_spec_integral_rounded_up_once(ts):
    got = ts["price"]
    for case, quote in zip(price_cases(), got, strict=True):
        assert quote is not None and int(quote) == ceil(exact_price(*case)), case
    # worked by hand: 20,300 / 4,000 = 5.075 -> 6 wei; Venice-like first right 165.31 VVV
    assert got[1:4] == ["3", "6", "165310227022261406216"]


def test_no_price_where_the_contract_reverts():
    once_per_suite_run()
    got = run_ts({"price": [["1", "0", "0", "0", "10", "1", "1"], ["1", "10", "0", "20", "10", "1", "1"]]})
    assert got["price"] == [None, None]  # RCAP 0 (ZeroRightsCap); capacity <= R (CapacityNotAboveRights)


def test_the_most_a_budget_buys(ts):
    got = [int(x) for x in ts["afford"]]
    assert got[0] == 0  # nothing buys nothing
    assert got[2] == 100 * E18 and got[3] == 5 * E18  # the limit (allowance or cap) binds first
    for (budget, limit), k in zip(AFFORD, got, strict=True):
        assert k <= limit and ceil(exact_price(k, *WORLD)) <= budget
        assert k == limit or ceil(exact_price(k + 1, *WORLD)) > budget
    assert 0 < got[1] < 100 * E18 and 0 < got[4] < 10**6  # 0.1 VVV and 7 wei each buy part of the limit


def test_allowance_and_cap(ts):
    # 100 VCU a day * 300 / 400 = 75 VCU; 100e18 * 1 / 3e18 = 33.33.. -> 33 wei; nothing active: 0
    assert ts["allowance"] == [str(75 * E18), "33", "0"]
    # min(2,000, 100,000 / 2) - 0; min(2,000, 500) - 400 = 100; min(100, 50) - 60 -> 0
    assert ts["capLeft"] == [str(2_000 * E18), str(100 * E18), "0"]


def test_why_minting_is_impossible_today(ts):
    assert ts["why"] == [
        None,
        "minting is paused by the guardian (repay, activate and deactivate still work)",
        "no mint today: today's allotments come from the fallback (the report of epoch 19 was late or rejected)",
        "no mint yet today: the report of epoch 19 is not posted (mints need it final)",
        "no mint yet today: the report of epoch 19 is in its dispute window (mints need it final)",
        "no mint today: the report of epoch 19's capacity leaves no pool above the rights out",
        "no mint today: you are not in the active set of the report of epoch 19, so you have no allowance",
        "no mint today: you minted your whole allowance against the report of epoch 19",
        "no mint: the rights out have reached the cap",
        "no mint: you have no free stake to lock",
    ]


def test_the_account_to_activate_for(ts):
    assert ts["account"] == [
        {"ok": ALICE},
        {"ok": ALICE},
        {"ok": ALICE},  # all lower case: no checksum to check
        {"error": f'the address\'s checksum (EIP-55, its upper and lower case) is wrong: "{BAD_CASE}"'},
        {"error": 'not an address (0x and 40 hex digits): "0x7099797"'},
        {"error": "the zero address cannot hold rights: enter the agent's address"},
        {"error": 'not an address (0x and 40 hex digits): "0x70997970C51812dc3A010C7d01b50e0d17dc79Cg"'},
        {"ok": ALICE},  # all upper case: no checksum either; blanks around are dropped
    ]


def test_the_forms_one_line_each(ts):
    assert ts["mint"] == [
        {"error": "above your allowance: 5 VCR left against today's report"},
        {"error": "enter the rights to mint"},
        {"error": 'the rights to mint must be positive: "-1"'},
        {"error": 'more than 18 decimals: "1.0000000000000000001"'},
        {"error": 'not a number: "abc"'},
        {"error": 'the rights to mint must be positive: "0"'},
        {"error": "above your allowance: 5 VCR left against today's report"},
        {"error": "above the cap: 4 VCR can still be minted"},
        {"error": "minting 1 VCR locks 300.000000000000000001 VVV; your free stake is 300 VVV"},
        {"error": "no mint yet today: the report of epoch 19 is in its dispute window (mints need it final)"},
    ]
    assert ts["repay"] == [
        {"ok": str(2 * E18)},
        {"error": "you have no position: only rights you minted can be repaid (bought rights cannot)"},
        {"error": "above your position: you minted 5 VCR not yet repaid"},
        {"error": "your wallet holds 1 VCR: deactivate and reclaim rights first"},
    ]
    assert ts["activate"] == [
        {"ok": f"{3 * E18} {ALICE}"},
        {"error": 'not an address (0x and 40 hex digits): "0x1234"'},
        {"error": "your wallet holds 5 VCR, asked to activate 6 VCR"},
    ]
