"""`ape run staker rights ...`: quote, mint, activate (for an agent), deactivate, reclaim, repay
and status through ape's CLI on the session's chain, the price against SPEC's formula computed
here in exact rationals, and every error one line with nothing sent.

World (the `reported` fixture of conftest): alice 300, bob 100, carol 100 VVV staked;
on day g alice and carol call the API, so the report of epoch g has the active set alice 300 +
carol 100 = 400 VVV; capacity 181,480 VCU. The deployment's defaults: RCAP 500 VCR, QUOTA 25
VCR a day, minCapacity 1,000 VCU (the cap: min(500, 1,000 / 2) = 500 VCR)."""

import re
import shlex
from fractions import Fraction
from math import ceil

import pytest
from eth_utils import to_checksum_address

from tests.cli_runner import ROOT, _load_script, once_per_suite_run
from tests.helpers import CAPACITY, DAY, E18, mine_at
from tests.staker.test_staker_cli import ALICE, BOB, wei
from vvv.chain.units import format_amount
from vvv.staker.transactions import utc

RCAP = 500 * E18
AGENT = to_checksum_address("0x" + "ab" * 20)


def err(staker_cli, *args: str) -> str:
    """The one error line of a command that must fail with nothing sent (checked by the runner)."""
    return staker_cli.error(*args).removesuffix("\n")


def spec_price(n: int, r_start: int = 0, minted_today: int = 0) -> int:
    """SPEC's quoteMint: T_eff = max(400 VVV active, 5% of the 500 VVV free), rounded up once."""
    t_eff = max(Fraction(400 * E18), Fraction(500 * E18 * 500, 10_000))
    integral = 2 * RCAP * n + 3 * n * (2 * r_start + 2 * minted_today + n)
    return ceil(t_eff * integral / (2 * RCAP * (CAPACITY - r_start)))


@pytest.fixture
def final(system, g, reported):
    """Day g+1, the report of epoch g final (posted at +601 s, its 2-hour window over)."""
    mine_at((g + 1) * DAY + 9_000)


def test_quote_before_the_report_is_final_says_why(system, staker_cli, g, reported):
    q = staker_cli.json("rights", "quote", "10")
    posted = system.oracle.report(g).postedAt
    assert (q["can_mint"], q["price"], q["source"], q["report_final"]) == (False, None, "report", False)
    assert q["final_at"] == posted + 7_200
    assert q["refusals"] == [f"no final report: the report of epoch {g} is final at {utc(posted + 7_200)} "
                             f"({posted + 7_200}); mints open then"]  # fmt: skip
    assert (wei(q["cap"]), wei(q["cap_left"]), wei(q["outstanding"])) == (RCAP, RCAP, 0)
    message = err(staker_cli, "rights", "mint", "10", *ALICE)
    assert message == f"Error: {q['refusals'][0]}; nothing was sent"


def test_journey_quote_mint_activate_for_an_agent_deactivate_reclaim_repay(system, alice, staker_cli, g, final, chain):
    rights, staking = system.compute_rights, system.staking
    price = spec_price(10 * E18)
    # 10 VCR at R = 0: 400 x (1,000 x 10 + 3 x 100) / (1,000 x 181,480) VVV = 0.0227022261...
    assert price == ceil(Fraction(400 * 10_300 * E18, 181_480_000))
    q = staker_cli.json("rights", "quote", "10", *ALICE)
    assert (q["can_mint"], wei(q["price"]), q["refusals"]) == (True, price, [])
    # alice's allowance: QUOTA x 300 / 400 = 18.75 VCR; her free stake all 300 VVV
    assert (wei(q["allowance"]), wei(q["allowance_left"]), wei(q["free_stake"])) == (
        18_750 * E18 // 1_000, 18_750 * E18 // 1_000, 300 * E18)  # fmt: skip
    m = staker_cli.json("rights", "mint", "10", *ALICE)
    assert (m["action"], wei(m["rights"]), wei(m["locked"]), wei(m["max_lock"])) == ("mint", 10 * E18, price, price)
    assert len(m["transactions"]) == 1
    assert rights.balanceOf(alice) == 10 * E18 and staking.lockedOf(alice) == price == rights.positionOf(alice)[1]
    # the second quote of the day goes on along the curve (mintedToday = 10 VCR)
    q2 = staker_cli.json("rights", "quote", str(5 * E18), "--wei", *ALICE)
    assert (q2["price"], q2["allowance_left"]) == (spec_price(5 * E18, 0, 10 * E18), 8_750 * E18 // 1_000)

    a = staker_cli.json("rights", "activate", "6", "--for", AGENT, *ALICE)
    assert (a["for"], a["from_epoch"], wei(a["rights"])) == (AGENT, g + 2, 6 * E18)
    d = staker_cli.json("rights", "deactivate", "2", "--for", AGENT, *ALICE)
    assert (d["from_epoch"], wei(d["rights"])) == (g + 2, 2 * E18)
    assert err(staker_cli, "rights", "reclaim", *ALICE) == (
        f"Error: nothing to reclaim now: 2 VCR deactivated come back from epoch {g + 2} ({utc((g + 2) * DAY)}); "
        "nothing was sent"
    )
    st = staker_cli.json("rights", "status", *ALICE)
    assert (wei(st["minted"]), wei(st["locked"]), wei(st["balance"])) == (10 * E18, price, 4 * E18)
    rows = [(x["account"], wei(x["rights"]), x["since_epoch"], wei(x["account_active_today"]),
             wei(x["account_active_tomorrow"])) for x in st["activations"]]  # fmt: skip
    assert rows == [(AGENT, 4 * E18, g + 2, 0, 4 * E18)]  # the agent's 4 VCU a day from epoch g + 2
    assert (wei(st["vcu_per_day_activated_by_you"]), wei(st["vcu_per_day_if_all_activated"])) == (4 * E18, 10 * E18)
    assert (wei(st["reclaim_pending"]), st["reclaim_from_epoch"]) == (2 * E18, g + 2)
    assert wei(st["mint_today"]["allowance_left"]) == 8_750 * E18 // 1_000

    # the same without --json: lines and tables a reader can check against the JSON
    shown = staker_cli("rights", "status", *ALICE)
    assert shown.exit_code == 0, shown.stderr
    assert "stake locked" in shown.stdout and f"{format_amount(price)} VVV" in shown.stdout
    assert AGENT in shown.stdout and "allowance left today" in shown.stdout
    quoted = staker_cli("rights", "quote", "1", *ALICE)
    assert quoted.exit_code == 0 and f"1 VCR lock {format_amount(spec_price(E18, 0, 10 * E18))} VVV" in quoted.stdout
    r = staker_cli.json("rights", "repay", "4", *ALICE)
    assert wei(r["unlocked"]) == price * 4 // 10  # locked x rights / minted, rounded down
    assert staking.lockedOf(alice) == price - price * 4 // 10
    mine_at((g + 2) * DAY + 60)  # the agent's 4 VCR serve it today; the 2 deactivated come back
    assert rights.activatedAt(AGENT, g + 2) == 4 * E18
    # the calculator shares today's pool (the capacity less the 4 VCU of rights), by free stake:
    # alice's locked stake is out of the fallback's total (100 of 100 + 100 + 300 - locked)
    capacity = int(system.oracle.fallbackCapacity(g + 2))
    calc = staker_cli.json("calc", "--vvv", "100")
    assert (wei(calc["capacity"]), wei(calc["pool"])) == (capacity, capacity - 4 * E18)
    free_total = 500 * E18 - price + price * 4 // 10
    assert wei(calc["all_stake"]) == free_total
    everyone = 100 * E18 * (capacity - 4 * E18) // (free_total + 100 * E18)
    assert wei(calc["forward"]["daily_vcu_if_all_active"]) == everyone
    assert wei(staker_cli.json("rights", "reclaim", *ALICE)["rights"]) == 2 * E18
    assert rights.balanceOf(alice) == 2 * E18


ERRORS = [
    (("mint", "18.75", "--max-lock", "0.04"), "the price, {p} VVV, is above --max-lock 0.04 VVV; nothing was sent"),
        (("mint", "18.750000000000000001"), "18.750000000000000001 VCR is above your allowance left today: 18.75 VCR "
         "(your allowance against the report of epoch {g} is 18.75 VCR, 0 VCR minted); nothing was sent"),
        (("mint", "0"), "amount must be positive: '0'"),
        (("mint", "-1"), "amount must be positive: '-1'"),
        (("repay", "1"), "1 VCR is more than your position: 0 VCR minted and not repaid (only the minter can repay, "
         "against its own position); nothing was sent"),
        (("activate", "1"), "the wallet holds 0 VCR, asked to activate 1 VCR; nothing was sent"),
        (("activate", "1", "--for", "nobody"), "--for: not an address: 'nobody'"),
        (("activate", "1", "--for", "0x" + "00" * 20), "--for: the zero address cannot be given rights; nothing was "
         "sent"),
        (("deactivate", "1", "--for", AGENT), "you activated 0 VCR to {agent}, asked to deactivate 1 VCR; nothing "
         "was sent"),
        (("reclaim",), "nothing to reclaim now; nothing was sent"),
]  # fmt: skip


def test_errors_send_nothing(system, alice, guardian, staker_cli, g, final):
    """Each case one error line naming what is wrong, and nothing sent (one world for all: each
    fixture run costs seconds)."""
    p = spec_price(18_750 * E18 // 1_000)
    for args, message in ERRORS:
        nonce, supply = alice.nonce, system.compute_rights.totalSupply()
        expected = message.format(p=format_amount(p), g=g, agent=AGENT)
        assert err(staker_cli, "rights", *args, *ALICE) == f"Error: {expected}", args
        assert (alice.nonce, system.compute_rights.totalSupply()) == (nonce, supply)
    # the guardian pauses new mints: the quote says so first, and the mint is refused
    system.compute_rights.pause(sender=guardian)
    q = staker_cli.json("rights", "quote", "1", *ALICE)
    assert (q["paused"], q["refusals"]) == (True, ["mints are paused by the guardian"])
    assert wei(q["price"]) == spec_price(E18)
    nonce = alice.nonce
    assert err(staker_cli, "rights", "mint", "1", *ALICE) == "Error: mints are paused by the guardian; nothing was sent"
    assert alice.nonce == nonce


def test_a_staker_outside_the_report_cannot_mint(system, bob, staker_cli, g, final):
    q = staker_cli.json("rights", "quote", "1", *BOB)
    assert q["refusals"] == [f"{bob.address} is not in the active set of the report of epoch {g}: only its stakers "
                             "can mint today"]  # fmt: skip
    assert wei(q["allowance"]) == 0 and wei(q["price"]) == spec_price(E18)
    nonce = bob.nonce
    assert err(staker_cli, "rights", "mint", "1", *BOB) == f"Error: {q['refusals'][0]}; nothing was sent"
    assert bob.nonce == nonce


def test_the_readme_rights_block_names_real_commands_and_options():
    """Each line of the README's "Compute rights" block is a `rights` subcommand, with options
    that subcommand has (no chain: a parse of the block and of the CLI's definitions)."""
    once_per_suite_run()  # no chain
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index("### Compute rights") :], re.S).group(1)
    group = _load_script("staker").commands["rights"]
    seen = set()
    for line in block.strip().splitlines():
        words = shlex.split(line.split("  #")[0])
        assert words[:4] == ["ape", "run", "staker", "rights"], line
        command = group.commands[words[4]]
        options = {o for p in command.params for o in p.opts}
        assert {w for w in words[5:] if w.startswith("--")} <= options, line
        seen.add(words[4])
    assert seen == {"quote", "mint", "repay", "activate", "deactivate", "reclaim", "status"}
