"""`ape run staker ...`: every command through ape's CLI on the session's chain, its JSON checked
against the chain to the wei and against hand-worked values, and every error case with nothing
sent (the account's nonce and the chain's state unchanged)."""

import json
from datetime import UTC, datetime

import pytest

from tests.cli_runner import invoke_script
from tests.helpers import CAPACITY, DAY, E18, EPOCH_EMISSION, WEEK, at, mine_at
from tests.sumtree_reference import ref_root
from vvv.chain.deployment import network_name
from vvv.chain.units import parse_amount
from vvv.oracle.proofs import ProofsFile, ReportData, proofs_path, write_proofs
from vvv.oracle.sumtree import SumTree
from vvv.oracle.usage import ApiCall, UsageStore
from vvv.staker.transactions import utc

ALICE = ("--account", "TEST::1")
BOB = ("--account", "TEST::2")
STAKERS_AT_ZERO_UTILIZATION = EPOCH_EMISSION * 8_000 // 10_000  # the fallback's stakers' part
NO_STORE = "no usage store given (--usage-db URL or VVV_USAGE_DB): today's spend and API calls are not known here"


def wei(text) -> int:
    return parse_amount(text)


def state_of(system, who):
    """Everything a failed command must leave unchanged."""
    s = system.staking
    return (who.nonce, system.token.balanceOf(who), s.stakeOf(who), s.totalUnbonding(), s.lastRequestId())


def check_status_against_chain(system, who, status):
    """Every amount of `status --json` equals the chain's view at the same block."""
    s = system.staking
    assert status["account"] == who.address
    assert wei(status["wallet"]) == system.token.balanceOf(who)
    assert wei(status["staked"]) == s.stakeOf(who)
    assert wei(status["earned"]) == s.earned(who)
    assert wei(status["total_staked"]) == s.totalStaked()
    for r in status["requests"]:
        owner, amount, unlock, settled = s.unstakeRequest(r["id"])
        assert (owner, wei(r["amount"]), r["unlock_time"], settled) == (who.address, amount, unlock, False)


# ------------------------------------------------------------------ the user's journey


def test_user_journey_stake_unstake_cancel_withdraw_claim_restake(system, deployer, alice, staker_cli, g, funded):
    """stake, two unstakes, cancel one, wait 7 days, withdraw the other, claim, restake; the
    dashboard after every step, against hand-worked values and the chain."""
    t1 = funded
    at(t1)
    out = staker_cli.json("stake", "300", *ALICE)
    assert (out["action"], wei(out["amount"]), out["used_permit"]) == ("stake", 300 * E18, True)
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["staked"]), wei(st["wallet"]), st["requests"]) == (300 * E18, 700 * E18, [])
    check_status_against_chain(system, alice, st)

    at(t1 + 100)
    out = staker_cli.json("unstake", "100", *ALICE)
    assert out["requests"] == [{"id": 1, "amount": "100", "unlock_time": t1 + 100 + WEEK}]
    at(t1 + 200)
    out = staker_cli.json("unstake", "50", *ALICE)
    assert out["requests"] == [{"id": 2, "amount": "50", "unlock_time": t1 + 200 + WEEK}]
    mine_at(t1 + 201)
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["staked"]), wei(st["unbonding"]), wei(st["withdrawable_now"])) == (150 * E18, 150 * E18, 0)
    assert [(r["id"], wei(r["amount"]), r["seconds_left"]) for r in st["requests"]] == [
        (1, 100 * E18, WEEK - 101),
        (2, 50 * E18, WEEK - 1),
    ]
    check_status_against_chain(system, alice, st)

    at(t1 + 300)
    out = staker_cli.json("cancel", "1", *ALICE)
    assert (wei(out["amount"]), out["requests"][0]["id"]) == (100 * E18, 1)
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["staked"]), wei(st["unbonding"])) == (250 * E18, 50 * E18)
    assert [r["id"] for r in st["requests"]] == [2]
    check_status_against_chain(system, alice, st)

    # no report: epoch g is distributed by the fallback from (g+3) days: stakers get 80%,
    # streamed over one day to alice alone (250 VVV)
    at((g + 3) * DAY)
    system.emissions.distribute(g, sender=deployer)
    rate_scaled = STAKERS_AT_ZERO_UTILIZATION * E18 // DAY
    first_stream = 250 * E18 * (rate_scaled * DAY // (250 * E18)) // E18

    unlock = t1 + 200 + WEEK
    at(unlock)
    out = staker_cli.json("withdraw", *ALICE)  # every matured request: only request 2
    assert (wei(out["amount"]), [r["id"] for r in out["requests"]]) == (50 * E18, [2])
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["wallet"]), wei(st["unbonding"]), st["requests"]) == (750 * E18, 0, [])
    assert wei(st["earned"]) == first_stream
    check_status_against_chain(system, alice, st)

    at(unlock + 10)
    out = staker_cli.json("claim", *ALICE)
    assert wei(out["amount"]) == first_stream
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["wallet"]), wei(st["earned"])) == (750 * E18 + first_stream, 0)
    check_status_against_chain(system, alice, st)

    # epoch g+1 by the fallback too; restake one hour into its stream
    t_notify = unlock + 20
    at(t_notify)
    system.emissions.distribute(g + 1, sender=deployer)
    rate_scaled = STAKERS_AT_ZERO_UTILIZATION * E18 // DAY
    at(t_notify + 3_600)
    out = staker_cli.json("restake", *ALICE)
    restaked = 250 * E18 * (3_600 * rate_scaled // (250 * E18)) // E18
    assert wei(out["amount"]) == restaked
    st = staker_cli.json("status", *ALICE)
    assert (wei(st["staked"]), wei(st["earned"])) == (250 * E18 + restaked, 0)
    assert wei(st["wallet"]) == 750 * E18 + first_stream
    check_status_against_chain(system, alice, st)
    # APR now: the stream's rate over a year, over the total stake (alice alone), in percent
    apr = st["apr_percent"].split(".")
    expected = rate_scaled * 365 * DAY * 100 * 10**6 // (E18 * (250 * E18 + restaked))
    assert int(apr[0]) * 10**6 + int(apr[1]) == expected


def test_cast_reads_what_status_printed(system, alice, staker_cli, g, funded, deployer, chain):
    """An independent client (foundry's `cast`) reads stakeOf, earned and unstakeRequest of the
    same account at the same block, and gets what `status --json` printed."""
    import subprocess

    from ape import networks

    if networks.provider.name != "foundry":
        pytest.skip("cast needs an RPC endpoint: this check runs in the anvil pass of `make test`")
    at(funded)
    staker_cli.json("stake", "300", *ALICE)
    at(funded + 10)
    staker_cli.json("unstake", "40.000000000000000001", *ALICE)
    at((g + 3) * DAY)
    system.emissions.distribute(g, sender=deployer)
    mine_at((g + 3) * DAY + 5_000)  # rewards streaming
    st = staker_cli.json("status", *ALICE, "--wei")
    block = str(chain.blocks.head.number)
    uri = networks.provider.uri

    def cast(signature, *args):
        out = subprocess.run(
            ["cast", "call", system.staking.address, signature, *args, "--rpc-url", uri, "--block", block, "--json"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return json.loads(out.stdout)

    assert int(cast("stakeOf(address)(uint256)", alice.address)[0]) == st["staked"] == 259_999_999_999_999_999_999
    assert int(cast("earned(address)(uint256)", alice.address)[0]) == st["earned"] > 0
    owner, amount, unlock, settled = cast("unstakeRequest(uint256)(address,uint256,uint256,bool)", "1")[:4]
    (request,) = st["requests"]
    assert (owner, int(amount), int(unlock), settled) == (
        alice.address,
        request["amount"],
        request["unlock_time"],
        False,
    )
    assert request["amount"] == 40 * E18 + 1


# ------------------------------------------------------------------ stake and permit


def test_stake_uses_the_allowance_when_it_covers_the_amount(system, alice, staker_cli, funded):
    at(funded)
    system.token.approve(system.staking, 50 * E18, sender=alice)
    at(funded + 1)
    out = staker_cli.json("stake", "50000000000000000000", *ALICE, "--wei")  # 50 VVV in wei
    assert (out["amount"], out["used_permit"]) == (50 * E18, False)
    assert system.staking.stakeOf(alice) == 50 * E18
    assert system.token.allowance(alice, system.staking) == 0


# ------------------------------------------------------------------ --wei: amounts given and shown in wei


def test_wei_applies_to_the_amounts_given(system, alice, staker_cli, funded):
    """`stake 5 --wei` stakes 5 wei, not 5 VVV: below the minimum stake, so it is refused."""
    mine_at(funded)
    before = state_of(system, alice)
    assert staker_cli.error("stake", "5", "--wei", *ALICE) == (
        "Error: the stake would be 0.000000000000000005 VVV, below the minimum stake of 0.001 VVV\n"
    )
    assert state_of(system, alice) == before
    at(funded + 1)
    out = staker_cli.json("stake", "1000000000000000001", "--wei", *ALICE)  # 1 VVV and 1 wei
    assert (out["amount"], system.staking.stakeOf(alice)) == (E18 + 1, E18 + 1)
    at(funded + 2)
    out = staker_cli.json("unstake", "500000000000000000", "--wei", *ALICE)  # 0.5 VVV
    assert out["requests"][0]["amount"] == E18 // 2 and system.staking.stakeOf(alice) == E18 // 2 + 1


def test_wei_applies_to_the_amounts_shown(system, alice, staker_cli, funded):
    """The same stake in VVV and in wei, shown both ways: inputs and outputs use one unit."""
    at(funded)
    in_vvv = staker_cli.json("stake", "1.5", *ALICE)
    assert in_vvv["amount"] == "1.5"
    at(funded + 1)
    in_wei = staker_cli.json("stake", "1500000000000000000", "--wei", *ALICE)
    assert in_wei["amount"] == 1_500_000_000_000_000_000
    status_vvv, status_wei = staker_cli.json("status", *ALICE), staker_cli.json("status", *ALICE, "--wei")
    assert (status_vvv["staked"], status_wei["staked"]) == ("3", 3 * E18)
    assert (status_vvv["wallet"], status_wei["wallet"]) == ("997", 997 * E18)


@pytest.mark.parametrize(
    "args, message",
    [
        (("stake", "1.5", "--wei"), "Error: amount not a whole number of wei: '1.5'"),
        (("unstake", "0.1", "--wei"), "Error: amount not a whole number of wei: '0.1'"),
        (("stake", "0", "--wei"), "Error: amount must be positive: '0'"),
        (("calc", "--vvv", "2.5", "--wei"), "Error: amount not a whole number of wei: '2.5'"),
    ],
)
def test_wei_amounts_are_whole_numbers(system, alice, staker_cli, funded, args, message):
    mine_at(funded)
    before = state_of(system, alice)
    account = () if args[0] == "calc" else ALICE
    assert staker_cli.error(*args, *account) == message + "\n"
    assert state_of(system, alice) == before


def test_calc_in_wei_equals_calc_in_vvv(staker_cli, funded):
    mine_at(funded)
    vvv = staker_cli.json("calc", "--vvv", "100")
    wei_ = staker_cli.json("calc", "--vvv", "100000000000000000000", "--wei")
    assert wei_["forward"]["stake"] == 100 * E18
    assert wei_["forward"]["daily_vcu_active"] == parse_amount(vvv["forward"]["daily_vcu_active"])
    assert wei_["forward"]["buys"] == vvv["forward"]["buys"]


# ------------------------------------------------------------------ errors: nothing sent


@pytest.mark.parametrize(
    "args, message",
    [
        (("stake", "990.000000000000000001"), "insufficient balance: the wallet holds 990 VVV"),
        (("stake", "10", "--no-permit"), "insufficient allowance: the staking contract may take 0 VVV"),
        (("stake", "1.0000000000000000001"), "more than 18 decimals"),
        (("stake", "-1"), "amount must be positive: '-1'"),
        (("stake", "0"), "amount must be positive: '0'"),
        (("stake", "ten"), "amount not a number: 'ten'"),
        (("unstake", "9.5"), "insufficient stake: 9 VVV staked, asked to unstake 9.5 VVV"),
        (("unstake", "8.9995"), "a partial unstake must be at least 0.001 VVV and leave at least 0.001 VVV"),
        (("cancel", "99"), "unknown request id 99"),
        (("cancel", "1"), "request 1 belongs to 0x90F79bf6EB2c4f870365E785982E1f101E93b906"),
        (("withdraw", "1"), "request 1 belongs to"),
        (("withdraw", "2"), "request 2 is not matured: it unlocks at"),
        (("withdraw",), "nothing to withdraw: no matured request; the next unlocks at"),
        (("withdraw", "3"), "request 3 is already settled"),
        (("claim",), "nothing to claim"),
        (("restake",), "nothing to restake"),
    ],
)
def test_errors_send_nothing(system, alice, bob, carol, staker_cli, funded, args, message):
    s = system.staking
    t = funded
    for who, amount in ((alice, 10 * E18), (carol, 10 * E18)):
        at(t)
        system.token.approve(s, amount, sender=who)
        at(t + 1)
        s.stake(amount, sender=who)
        t += 2
    at(t)
    s.requestUnstake(E18, sender=carol)  # request 1: carol's
    at(t + 1)
    s.requestUnstake(E18, sender=alice)  # request 2: alice's, matures in 7 days
    at(t + 2)
    s.requestUnstake(E18, sender=alice)  # request 3: alice's, cancelled
    at(t + 3)
    s.cancelUnstake(3, sender=alice)
    mine_at(t + 4)
    before = state_of(system, alice)
    output = staker_cli.error(*args, *ALICE)
    assert message in output
    assert state_of(system, alice) == before
    if args == ("withdraw", "2"):
        assert f"({t + 1 + WEEK})" in output  # the unlock time, exactly


def test_stake_below_the_minimum(system, bob, staker_cli, funded):
    mine_at(funded)
    before = state_of(system, bob)
    output = staker_cli.error("stake", "0.000999999999999999", *BOB)
    assert "the stake would be 0.000999999999999999 VVV, below the minimum stake of 0.001 VVV" in output
    assert state_of(system, bob) == before


def test_paused_staking_refuses_stake_unstake_and_restake(system, alice, guardian, staker_cli, funded):
    at(funded)
    system.token.approve(system.staking, 10 * E18, sender=alice)
    at(funded + 1)
    system.staking.stake(10 * E18, sender=alice)
    at(funded + 2)
    system.staking.pause(sender=guardian)
    mine_at(funded + 3)
    before = state_of(system, alice)
    for args in (("stake", "1"), ("unstake", "1"), ("restake",)):
        assert "staking is paused by the guardian" in staker_cli.error(*args, *ALICE)
    assert state_of(system, alice) == before


def test_missing_deployment_record(staker_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path / "nowhere"))
    assert "no deployment record for network" in staker_cli.error("status", *ALICE)
    assert "no deployment record for network" in staker_cli.error("stake", "1", *ALICE)


def test_a_record_whose_addresses_hold_no_code(system, alice, staker_cli, deployments, funded):
    """A record of this chain id that points at addresses without code (a local chain that was
    restarted): every command says so in one line, and sends nothing."""
    path = deployments / f"{network_name()}.json"
    record = json.loads(path.read_text())
    empty = "0x000000000000000000000000000000000000dEaD"
    record["contracts"]["EpochOracle"] = empty
    path.write_text(json.dumps(record))
    mine_at(funded)
    before = state_of(system, alice)
    expected = (f"Error: {path} points at {empty} (EpochOracle), which has no code on this chain (was the chain "
                "restarted?); deploy again with `ape run deploy`")  # fmt: skip
    for args in (("status", *ALICE), ("stake", "1", *ALICE), ("claim", *ALICE), ("calc", "--vvv", "1")):
        output = staker_cli.error(*args)
        assert output.startswith(expected)  # on ape's chains that stop with the command, a hint follows
    assert state_of(system, alice) == before


def test_status_needs_an_address(staker_cli):
    assert "give an ADDRESS or --account" in staker_cli.error("status")


# ------------------------------------------------------------------ status: VCU and APR


def test_status_shows_todays_allotment_and_spend(system, alice, bob, staker_cli, g, reported):
    st = staker_cli.json("status", *ALICE)
    v = st["vcu"]
    # active: alice 300 + carol 100 = 400 VVV share 181,480 VCU; alice gets 3/4
    assert (v["epoch"], v["source"], v["api_active"], v["api_call_in_last_7_days"]) == (g + 1, "report", True, True)
    assert (wei(v["allotment"]), wei(v["spent"]), wei(v["remaining"])) == (136_110 * E18, 1_000 * E18, 135_110 * E18)
    check_status_against_chain(system, alice, st)
    assert st["vcu"]["usage_store"] == staker_cli.usage_db and st["vcu"]["notes"] == []
    st_bob = staker_cli.json("status", bob.address)  # by address, no account
    assert (wei(st_bob["vcu"]["allotment"]), st_bob["vcu"]["api_active"]) == (0, False)
    # bob had a stake at the snapshot but never called: the note says why his allotment is 0
    assert st_bob["vcu"]["notes"] == [
        f"allotment 0: not in the active set of the report of epoch {g} (no API call in epochs {g - 6}..{g} while "
        "staked); an API call today counts for tomorrow's report"
    ]
    # utilization of epoch g: 18,148 / 181,480 = 10% -> stakers' share 8000 - 6000 x 1000/5000 = 6800 bps
    assert (st["last_reported_epoch"], st["last_utilization_bps"]) == (g, 1_000)
    daily = EPOCH_EMISSION * 6_800 // 10_000
    whole, frac = st["apr_at_last_utilization_percent"].split(".")
    assert int(whole) * 10**6 + int(frac) == daily * 365 * 100 * 10**6 // (500 * E18)
    # no stream yet (nothing distributed): APR now 0; at the last utilization 26,082.19 VVV a day
    # over 500 VVV is 1,904,000 % (less a hair: the epoch's emission is floored): the note says why
    assert (st["apr_percent"], st["apr_at_last_utilization_percent"]) == ("0.000000", "1903999.999999")
    assert st["apr_notes"] == [
        "APR of 1,000 % or more: the stakers' part of a day at the last utilization (26082.19 VVV) is shared by "
        "only 500 VVV staked; it falls as more is staked"
    ]


def test_status_without_a_usage_store_says_so_and_reads_no_other(alice, staker_cli, tmp_path, monkeypatch, reported):
    """Issue 22: without --usage-db, `status` read ./usage.db and showed `spent 0`. Here ./usage.db
    is a store with 1,000 VCU of alice's today: it is not read; the spend is unknown and says why."""
    monkeypatch.chdir(tmp_path)
    assert (tmp_path / "usage.db").exists()
    args = ("status", *ALICE, "--reports-dir", str(staker_cli.reports))
    result = invoke_script("staker", *args, "--json")
    assert result.exit_code == 0, result.stderr
    v = json.loads(result.stdout)["vcu"]
    assert (wei(v["allotment"]), v["spent"], v["remaining"]) == (136_110 * E18, None, None)
    assert (v["api_call_in_last_7_days"], v["usage_store"], v["notes"]) == (None, None, [NO_STORE])
    result = invoke_script("staker", *args)
    lines = result.stdout.splitlines()
    assert "│ spent                   │      - │" in lines and "│ remaining               │      - │" in lines
    assert f"note: {NO_STORE}" in " ".join(result.stdout.split())  # rich wraps it at 80 columns
    assert max(map(len, lines)) <= 80
    # the store from VVV_USAGE_DB (the oracle bot's variable), named in the output
    monkeypatch.setenv("VVV_USAGE_DB", staker_cli.usage_db)
    v = json.loads(invoke_script("staker", *args, "--json").stdout)["vcu"]
    assert (wei(v["spent"]), wei(v["remaining"]), v["usage_store"]) == (1_000 * E18, 135_110 * E18, staker_cli.usage_db)


def test_status_names_a_usage_store_that_does_not_exist(staker_cli, funded, tmp_path, monkeypatch):
    mine_at(funded)
    missing = f"sqlite:///{tmp_path / 'nosuch.db'}"
    expected = (f"Error: usage store {missing} does not exist (give the gateway's store, or no --usage-db (nor "
                "VVV_USAGE_DB) to leave the spend unknown)\n")  # fmt: skip
    assert staker_cli.error("status", *ALICE, "--usage-db", missing) == expected
    monkeypatch.setenv("VVV_USAGE_DB", missing)
    assert staker_cli.error("status", *ALICE) == expected


def test_status_says_why_an_allotment_is_0_and_an_apr_extreme(system, alice, bob, deployer, staker_cli, g, funded):
    """Issue 22: "the fallback counts every staker" stood next to `allotment 0`, and one 250-VVV
    staker's APR read 4479999.999999 % with no word of why."""
    at(funded)
    staker_cli.json("stake", "250", *ALICE)  # before genesis: in the snapshot of epoch g-1
    at(g * DAY + 10)
    staker_cli.json("stake", "100", *BOB)  # after it
    mine_at(g * DAY + 100)
    fallback = (f"no report of epoch {g - 1} by today's deadline (or it was rejected): the fallback shares today's "
                f"capacity among every staker, by stake at the snapshot of epoch {g - 1}")  # fmt: skip
    snapshot = f"{datetime.fromtimestamp(g * DAY - 1, UTC):%Y-%m-%d} 23:59:59 UTC"
    st = staker_cli.json("status", *BOB)
    assert (st["vcu"]["source"], st["vcu"]["allotment"]) == ("fallback", "0")
    no_stake = (f"allotment 0: no stake at the snapshot of epoch {g - 1} ({snapshot}), which today's fallback shares "
                "by; a stake counts from the first snapshot after it is made")  # fmt: skip
    assert st["vcu"]["notes"] == [fallback, NO_STORE, no_stake]
    assert (st["apr_percent"], st["apr_notes"]) == ("0.000000", [])  # nothing streams yet
    out = staker_cli("status", *BOB)
    assert f"note: {no_stake}" in " ".join(out.stdout.split())
    st = staker_cli.json("status", *ALICE)  # alice holds the whole stake of the snapshot
    assert (st["vcu"]["allotment"], st["vcu"]["notes"]) == ("181480", [fallback, NO_STORE])

    # epoch g by the liveness fallback: 80 % of the emission, streamed over a day to 350 VVV
    at((g + 3) * DAY)
    system.emissions.distribute(g, sender=deployer)
    mine_at((g + 3) * DAY + 1)
    st = staker_cli.json("status", *ALICE)
    assert st["apr_notes"] == [
        "APR of 1,000 % or more: the whole stream (30684.93 VVV a day) is shared by only 350 VVV staked; it falls "
        "as more is staked"
    ]
    at((g + 3) * DAY + 2)
    system.staking.requestUnstake(100 * E18, sender=bob)
    mine_at((g + 3) * DAY + 3)
    st = staker_cli.json("status", *ALICE)
    # 30,684.93 VVV a day x 365 / 250 VVV = 4,480,000 %, floored to 6 decimals
    assert st["apr_percent"] == "4479999.999999"
    only = ("APR of 1,000 % or more: you are the only staker, so the whole stream (30684.93 VVV a day) goes to your "
            "250 VVV; it falls as others stake")  # fmt: skip
    assert st["apr_notes"] == [only]
    out = staker_cli("status", *ALICE)
    text = " ".join(out.stdout.split())
    assert "APR now % │ 4479999.999999" in text and f"note: {only}" in text
    assert max(map(len, out.stdout.splitlines())) <= 80


def test_status_on_a_day_whose_source_is_not_yet_known(alice, bob, staker_cli, g, funded):
    """Before the day's report deadline (1 hour) with no report posted, the gateway serves
    min(expected, fallback) (SPEC): with the usage store, status shows that figure (alice, who
    called on day g, gets the fallback share: her 250 VVV are the whole stake at the snapshot, so
    all 181,480 VCU of the initial capacity; bob, who never called, 0); without it, the allotment
    is unknown and the note says how it is served. No other reason for a 0 is given."""
    at(funded)
    staker_cli.json("stake", "250", *ALICE)
    mine_at((g + 1) * DAY + 100)
    bridge = (f"the report of epoch {g} is not posted yet: until it is (or 01:00 UTC, when the fallback takes the "
              f"day) the gateway serves min(expected, fallback): the fallback share to an account with an API call "
              f"in epochs {g - 6}..{g} and a stake at the snapshot, 0 to others")  # fmt: skip
    v = staker_cli.json("status", *ALICE)["vcu"]  # no store yet: none given
    assert (v["source"], v["allotment"], v["remaining"]) == ("not yet known", None, None)
    assert v["notes"] == [bridge, NO_STORE]
    store = UsageStore(staker_cli.usage_db, create=True)
    store.add([ApiCall(g * DAY + 100, alice.address, "llama-3.3-70b", 1, 1, 0, 5 * E18)])
    v = staker_cli.json("status", *ALICE, "--usage-db", staker_cli.usage_db)["vcu"]
    assert (wei(v["allotment"]), wei(v["spent"]), wei(v["remaining"])) == (181_480 * E18, 0, 181_480 * E18)
    assert v["notes"] == [bridge]
    v = staker_cli.json("status", bob.address, "--usage-db", staker_cli.usage_db)["vcu"]
    assert (wei(v["allotment"]), v["notes"]) == (0, [bridge])


def test_status_refuses_a_proofs_file_that_does_not_match_the_chain(system, alice, staker_cli, g, reported):
    path = proofs_path(system.record["chain_id"], g, staker_cli.reports)
    original = json.loads(path.read_text())["report"]
    tree = SumTree.from_stakes({alice.address: 400 * E18})  # claims alice had everything
    root = ref_root([(alice.address, 400 * E18)])
    fields = {"active_root": root, "total_active_stake": 400 * E18, "active_count": 1}
    forged = ReportData(**{**ReportData.from_json(original).__dict__, **fields})
    write_proofs(ProofsFile(forged, tree), staker_cli.reports)
    output = staker_cli.error("status", *ALICE)
    assert "does not match the chain" in output and root in output


# ------------------------------------------------------------------ calc


def test_calc_forward_and_reverse(system, staker_cli, reported):
    out = staker_cli.json("calc", "--vvv", "100", "--workload", "llama-3.3-70b:2000:1500:400", "--workload",
                          "flux-dev:50")  # fmt: skip
    assert (out["source"], wei(out["capacity"]), wei(out["active_stake"]), wei(out["all_stake"])) == (
        "report", CAPACITY, 400 * E18, 500 * E18,
    )  # fmt: skip
    f = out["forward"]
    # 100 joining 400 active: 100/500 of 181,480 = 36,296 VCU; joining all 500: 100/600
    assert wei(f["daily_vcu_active"]) == 36_296 * E18
    assert wei(f["daily_vcu_if_all_active"]) == 100 * E18 * CAPACITY // (600 * E18)
    buys = {b["model"]: b for b in f["buys"]}
    # llama-3.3-70b: 1000 in x 0.70 + 500 out x 2.80 per 1M = 0.0021 VCU a request
    assert buys["llama-3.3-70b"]["requests"] == 17_283_809  # 36,296 / 0.0021 = 17,283,809.5
    assert buys["llama-3.3-70b"]["input_tokens"] == 51_851_428_571  # 36,296 / 0.70 per 1M
    assert buys["flux-dev"]["images"] == 453_700  # 36,296 / 0.08
    r = out["reverse"]
    # 2000 x (1500 x 0.70 + 400 x 2.80) / 1M = 4.34 VCU, plus 50 images x 0.08 = 4 VCU
    assert wei(r["daily_vcu"]) == 8_340_000_000_000_000_000
    for key, pool in (("stake_needed_active", 400 * E18), ("stake_needed_if_all_active", 500 * E18)):
        need, vcu = wei(r[key]), 8_340_000_000_000_000_000
        assert need * CAPACITY // (pool + need) >= vcu > (need - 1) * CAPACITY // (pool + need - 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (("--workload", "gpt-9:1:1:1"), "unknown model 'gpt-9'"),
        (("--workload", "flux-dev:1:1:1"), "a image model is written MODEL:IMAGES"),
        (("--workload", "llama-3.3-70b:10"), "a chat model is written MODEL:REQUESTS:AVG_IN:AVG_OUT"),
        (("--workload", "flux-dev:3000000"), "more than the whole network's daily capacity"),
        (("--vvv", "1e-30"), "more than 18 decimals"),
        ((), "give --vvv AMOUNT, or one or more --workload"),
    ],
)
def test_calc_errors(staker_cli, reported, args, message):
    assert message in staker_cli.error("calc", *args)


# ------------------------------------------------------------------ human output (rich tables)


def test_tables_without_json(system, alice, staker_cli, g, reported):
    out = staker_cli("status", *ALICE)
    assert out.exit_code == 0, out.stderr
    assert alice.address in out.stdout and "300" in out.stdout and "136110" in out.stdout
    assert "VCU today (epoch" in out.stdout
    title = [line.rstrip() for line in out.stdout.splitlines()[:2]]  # rich pads a title to the table's width
    assert title == [alice.address, f"at {utc((g + 1) * DAY + 3_600)} (epoch {g + 1})"]
    assert max(map(len, out.stdout.splitlines())) <= 80  # rich's width when stdout is not a terminal
    out = staker_cli("calc", "--vvv", "100", "--workload", "flux-dev:50")
    assert out.exit_code == 0, out.stderr
    assert "36296" in out.stdout and "What the active allotment buys per day" in out.stdout
    assert "Stake needed for the daily workload" in out.stdout
    # at 80 columns every model's name is whole: only the long header of the requests wraps
    assert max(map(len, out.stdout.splitlines())) <= 80
    assert "│ stable-diffusion-3.5 │             - │" in out.stdout and "│ qwen-2.5-coder-32b   │" in out.stdout
    at((g + 1) * DAY + 4_000)
    out = staker_cli("unstake", "0.5", *ALICE)
    assert out.exit_code == 0, out.stderr
    assert f"{alice.address} asked to unstake 0.5 VVV" in out.stdout and "request 1: 0.5 VVV, unlock" in out.stdout
