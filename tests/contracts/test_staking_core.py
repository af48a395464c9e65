"""Staking mechanics: unbonding queue, permit, checkpoints, pause, roles, input errors."""

import ape
import pytest
from eth_account import Account

from tests.helpers import DAY, E18, WEEK, at, fund, mine_at, next_day_start, notify
from vvv.chain.deployment import NO_LOCKER


@pytest.fixture
def t0(chain):
    return next_day_start(2)


@pytest.fixture
def staked_alice(token, staking, deployer, alice, t0):
    """alice holds 1,000 VVV and has staked 100 of them at t0 - 100."""
    fund(token, deployer, alice, 1_000 * E18, spender=staking)
    at(t0 - 100)
    staking.stake(100 * E18, sender=alice)
    return alice


# ------------------------------------------------------------------ unbonding queue


def test_withdraw_at_unlock_time_exactly_once(token, staking, staked_alice, t0):
    alice = staked_alice
    at(t0)
    tx = staking.requestUnstake(40 * E18, sender=alice)
    request_id = staking.lastRequestId()
    assert request_id == 1
    unlock = t0 + WEEK
    assert [(e.account, e.requestId, e.amount, e.unlockTime) for e in tx.decode_logs(staking.UnstakeRequested)] == [
        (alice, 1, 40 * E18, unlock)
    ]
    assert staking.unstakeRequest(request_id) == (alice, 40 * E18, unlock, False)
    assert staking.stakeOf(alice) == 60 * E18
    assert staking.totalUnbonding() == 40 * E18
    wallet = token.balanceOf(alice)

    at(unlock - 1)
    with ape.reverts(staking.RequestNotMatured, requestId=request_id, unlockTime=unlock):
        staking.withdraw(request_id, sender=alice)

    at(unlock)
    staking.withdraw(request_id, sender=alice)
    assert token.balanceOf(alice) == wallet + 40 * E18
    assert staking.totalUnbonding() == 0
    # settled: the unlock time is cleared (the UnstakeRequested event keeps it)
    assert staking.unstakeRequest(request_id) == (alice, 40 * E18, 0, True)

    at(unlock + 1)
    with ape.reverts(staking.RequestSettled, requestId=request_id):
        staking.withdraw(request_id, sender=alice)
    assert token.balanceOf(alice) == wallet + 40 * E18


def test_many_requests_each_with_its_own_unlock(token, staking, staked_alice, t0):
    alice = staked_alice
    for i, amount in enumerate((10, 20, 30)):
        at(t0 + i * DAY)
        staking.requestUnstake(amount * E18, sender=alice)
    assert [staking.unstakeRequest(i)[1:3] for i in (1, 2, 3)] == [
        (10 * E18, t0 + WEEK),
        (20 * E18, t0 + DAY + WEEK),
        (30 * E18, t0 + 2 * DAY + WEEK),
    ]
    assert staking.totalUnbonding() == 60 * E18
    assert staking.stakeOf(alice) == 40 * E18
    # the second matures one day after the first; withdrawing it early fails, the first works
    at(t0 + WEEK)
    staking.withdraw(1, sender=alice)
    with ape.reverts(staking.RequestNotMatured, requestId=2, unlockTime=t0 + DAY + WEEK):
        staking.withdraw(2, sender=alice)
    assert staking.totalUnbonding() == 50 * E18


def test_request_and_cancel_errors(staking, staked_alice, bob, t0):
    alice = staked_alice
    at(t0)
    staking.requestUnstake(10 * E18, sender=alice)
    with ape.reverts(staking.UnknownRequest, requestId=2):
        staking.cancelUnstake(2, sender=alice)
    with ape.reverts(staking.NotRequestOwner, requestId=1, caller=bob):
        staking.cancelUnstake(1, sender=bob)
    with ape.reverts(staking.NotRequestOwner, requestId=1, caller=bob):
        staking.withdraw(1, sender=bob)
    staking.cancelUnstake(1, sender=alice)
    with ape.reverts(staking.RequestSettled, requestId=1):
        staking.cancelUnstake(1, sender=alice)
    with ape.reverts(staking.RequestSettled, requestId=1):
        staking.withdraw(1, sender=alice)
    assert staking.stakeOf(alice) == 100 * E18
    assert staking.totalUnbonding() == 0


def test_zero_and_over_unstake_and_minimum(token, staking, deployer, staked_alice, bob, t0):
    alice = staked_alice
    with ape.reverts(staking.ZeroAmount):
        staking.stake(0, sender=alice)
    with ape.reverts(staking.ZeroAmount):
        staking.stakeFor(bob, 0, sender=alice)
    with ape.reverts(staking.ZeroAddress):
        staking.stakeFor("0x0000000000000000000000000000000000000000", E18, sender=alice)
    with ape.reverts(staking.ZeroAmount):
        staking.requestUnstake(0, sender=alice)
    with ape.reverts(staking.InsufficientStake, requested=100 * E18 + 1, staked=100 * E18):
        staking.requestUnstake(100 * E18 + 1, sender=alice)
    with ape.reverts(staking.InsufficientStake, requested=1, staked=0):
        staking.requestUnstake(1, sender=bob)
    with ape.reverts(staking.NoRewards):
        staking.claimRewards(sender=alice)
    with ape.reverts(staking.NoRewards):
        staking.restakeRewards(sender=alice)
    # MIN_STAKE = 0.001 VVV: a first stake below it, a partial unstake below it, or one that
    # leaves less than it behind, are refused; unstaking everything is always allowed.
    minimum = 10**15
    assert staking.MIN_STAKE() == minimum
    fund(token, deployer, bob, E18, spender=staking)
    with ape.reverts(staking.BelowMinimumStake, amount=minimum - 1, minimum=minimum):
        staking.stake(minimum - 1, sender=bob)
    with ape.reverts(staking.BelowMinimumStake, amount=minimum - 1, minimum=minimum):
        staking.requestUnstake(minimum - 1, sender=alice)
    with ape.reverts(staking.BelowMinimumStake, amount=1, minimum=minimum):
        staking.requestUnstake(100 * E18 - 1, sender=alice)
    at(t0)
    staking.requestUnstake(100 * E18, sender=alice)
    assert staking.stakeOf(alice) == 0
    # nothing moved by the refused calls
    assert token.balanceOf(bob) == E18
    assert staking.totalStaked() == 0
    assert staking.totalUnbonding() == 100 * E18


def test_stake_for_credits_account_and_charges_payer(token, staking, deployer, alice, bob, t0):
    fund(token, deployer, alice, 50 * E18, spender=staking)
    at(t0)
    tx = staking.stakeFor(bob, 50 * E18, sender=alice)
    assert [(e.payer, e.account, e.amount) for e in tx.decode_logs(staking.Staked)] == [(alice, bob, 50 * E18)]
    assert staking.stakeOf(bob) == 50 * E18
    assert staking.stakeOf(alice) == 0
    assert token.balanceOf(alice) == 0
    assert token.balanceOf(staking) == 50 * E18


# ------------------------------------------------------------------ permit


def _permit_signature(token, owner, spender, value, deadline, chain):
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "Venice Token",
            "version": "1",
            "chainId": chain.chain_id,  # 1337 on the test provider, 31337 on anvil
            "verifyingContract": token.address,
        },
        "message": {
            "owner": owner.address,
            "spender": spender.address,
            "value": value,
            "nonce": token.nonces(owner),
            "deadline": deadline,
        },
    }
    signed = Account.sign_typed_data(owner.private_key, full_message=data)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_stake_with_permit(token, staking, deployer, alice, chain, t0):
    fund(token, deployer, alice, 70 * E18)
    v, r, s = _permit_signature(token, alice, staking, 70 * E18, t0 + DAY, chain)
    at(t0)
    staking.stakeWithPermit(70 * E18, t0 + DAY, v, r, s, sender=alice)
    assert staking.stakeOf(alice) == 70 * E18
    assert token.balanceOf(alice) == 0
    assert token.allowance(alice, staking) == 0


def test_stake_with_permit_survives_front_run(token, staking, deployer, alice, attacker, chain, t0):
    # The attacker copies alice's permit from the mempool and submits it first: the nonce is
    # used, alice's own permit call fails inside stakeWithPermit, and the stake still goes
    # through on the allowance the attacker's call set.
    fund(token, deployer, alice, 70 * E18)
    v, r, s = _permit_signature(token, alice, staking, 70 * E18, t0 + DAY, chain)
    at(t0 - 1)
    token.permit(alice, staking, 70 * E18, t0 + DAY, v, r, s, sender=attacker)
    at(t0)
    staking.stakeWithPermit(70 * E18, t0 + DAY, v, r, s, sender=alice)
    assert staking.stakeOf(alice) == 70 * E18
    assert token.balanceOf(alice) == 0


def test_stake_with_bad_permit_and_no_allowance_reverts(token, staking, deployer, alice, chain, t0):
    fund(token, deployer, alice, 70 * E18)
    v, r, s = _permit_signature(token, alice, staking, 70 * E18, t0 - 10, chain)  # expired
    at(t0)
    with ape.reverts(token.ERC20InsufficientAllowance, spender=staking, allowance=0, needed=70 * E18):
        staking.stakeWithPermit(70 * E18, t0 - 10, v, r, s, sender=alice)
    assert token.balanceOf(alice) == 70 * E18


# ------------------------------------------------------------------ checkpoints


def test_stake_at_around_changes(token, staking, deployer, alice, bob, t0):
    fund(token, deployer, alice, 100 * E18, spender=staking)
    fund(token, deployer, bob, 100 * E18, spender=staking)
    t1, t2, t3 = t0, t0 + 10, t0 + 20
    at(t1)
    staking.stake(10 * E18, sender=alice)
    at(t2)
    staking.stake(5 * E18, sender=alice)
    at(t3)
    staking.stakeFor(bob, 7 * E18, sender=bob)
    at(t3 + 10)
    staking.requestUnstake(15 * E18, sender=alice)
    mine_at(t3 + 20)
    expected_alice = {
        t1 - 1: 0,
        t1: 10,
        t1 + 1: 10,
        t2 - 1: 10,
        t2: 15,
        t2 + 1: 15,
        t3 + 9: 15,
        t3 + 10: 0,
        t3 + 11: 0,
    }
    for t, value in expected_alice.items():
        assert staking.stakeAt(alice, t) == value * E18, t
    expected_total = {
        t1 - 1: 0,
        t1: 10,
        t1 + 1: 10,
        t2 - 1: 10,
        t2: 15,
        t2 + 1: 15,
        t3 - 1: 15,
        t3: 22,
        t3 + 1: 22,
        t3 + 9: 22,
        t3 + 10: 7,
        t3 + 11: 7,
    }
    for t, value in expected_total.items():
        assert staking.totalStakedAt(t) == value * E18, t


def test_notify_does_not_change_total_checkpoints(token, staking, deployer, notifier, staked_alice, t0):
    notify(token, staking, notifier, 1_000 * E18, t0)
    mine_at(t0 + 5)
    assert staking.totalStakedAt(t0 - 1) == 100 * E18
    assert staking.totalStakedAt(t0) == 100 * E18
    assert staking.totalStaked() == 100 * E18


# ------------------------------------------------------------------ pause


def test_pause_blocks_exactly_new_stakes_requests_restakes(
    token, staking, deployer, notifier, guardian, staked_alice, chain, t0
):
    alice = staked_alice
    at(t0)
    staking.requestUnstake(20 * E18, sender=alice)  # id 1, matures t0 + WEEK
    at(t0 + 1)
    staking.requestUnstake(20 * E18, sender=alice)  # id 2, to cancel while paused
    notify(token, staking, notifier, 86_400 * E18, t0 + 10)
    at(t0 + 20)
    tx = staking.pause(sender=guardian)
    assert staking.paused()
    assert [e.account for e in tx.decode_logs(staking.Paused)] == [guardian]

    v, r, s = _permit_signature(token, alice, staking, E18, t0 + WEEK * 2, chain)
    with ape.reverts(staking.EnforcedPause):
        staking.stake(E18, sender=alice)
    with ape.reverts(staking.EnforcedPause):
        staking.stakeFor(alice, E18, sender=alice)
    with ape.reverts(staking.EnforcedPause):
        staking.stakeWithPermit(E18, t0 + WEEK * 2, v, r, s, sender=alice)
    with ape.reverts(staking.EnforcedPause):
        staking.requestUnstake(E18, sender=alice)
    with ape.reverts(staking.EnforcedPause):
        staking.restakeRewards(sender=alice)

    # cancel, claim and withdraw of a matured request all work while paused
    at(t0 + 100)
    staking.cancelUnstake(2, sender=alice)
    assert staking.stakeOf(alice) == 80 * E18
    at(t0 + 200)
    # alice is the only staker: she earned the stream from t0+10 to t0+200 = 190 s x 1 VVV/s
    # (per staked wei: 90 s / 60 VVV and 100 s / 80 VVV, both exact, so to the wei)
    staking.claimRewards(sender=alice)
    assert token.balanceOf(alice) == 900 * E18 + 190 * E18
    at(t0 + WEEK)
    staking.withdraw(1, sender=alice)
    assert token.balanceOf(alice) == 900 * E18 + 190 * E18 + 20 * E18

    at(t0 + WEEK + 1)
    staking.unpause(sender=guardian)
    staking.stake(E18, sender=alice)
    assert staking.stakeOf(alice) == 81 * E18


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize("who", ["deployer", "alice", "guardian", "oracle", "attacker"])
def test_only_notifier_notifies(staking, who, request):
    caller = request.getfixturevalue(who)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=staking.NOTIFIER_ROLE()):
        staking.notifyRewards(E18, sender=caller)


@pytest.mark.parametrize("who", ["deployer", "alice", "notifier", "oracle", "attacker"])
def test_only_guardian_pauses(staking, guardian, who, request):
    caller = request.getfixturevalue(who)
    role = staking.GUARDIAN_ROLE()
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=role):
        staking.pause(sender=caller)
    staking.pause(sender=guardian)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=role):
        staking.unpause(sender=caller)


@pytest.mark.parametrize("who", ["deployer", "alice", "guardian", "oracle", "attacker"])
def test_only_minter_mints(token, who, request):
    caller = request.getfixturevalue(who)
    with ape.reverts(token.NotMinter, caller=caller):
        token.mint(caller, E18, sender=caller)


def test_notifier_role_is_locked_even_for_admin(staking, deployer, notifier, attacker):
    # The notifier's admin role is a role that administers itself and that nobody holds: the
    # default admin can neither add a notifier, nor remove the controller, nor grant itself
    # the locking role first (the attack an independent review found in an earlier version).
    locked = staking.getRoleAdmin(staking.NOTIFIER_ROLE())
    assert locked != staking.DEFAULT_ADMIN_ROLE()
    assert staking.getRoleAdmin(locked) == locked
    for call in (
        lambda: staking.grantRole(staking.NOTIFIER_ROLE(), attacker, sender=deployer),
        lambda: staking.revokeRole(staking.NOTIFIER_ROLE(), notifier, sender=deployer),
        lambda: staking.grantRole(locked, deployer, sender=deployer),
    ):
        with ape.reverts(staking.AccessControlUnauthorizedAccount, account=deployer, neededRole=locked):
            call()
    assert staking.hasRole(staking.NOTIFIER_ROLE(), notifier)


def test_constructor_bounds(project, token, deployer, guardian, notifier):
    with ape.reverts(project.VVVStaking.AdminDelayTooShort, adminDelay=DAY - 1, minimum=DAY):
        project.VVVStaking.deploy(token, deployer, DAY - 1, guardian, notifier, NO_LOCKER, sender=deployer)


def test_stake_for_the_staking_contract_itself_is_refused(token, staking, deployer, alice):
    fund(token, deployer, alice, E18, spender=staking)
    with ape.reverts(staking.InvalidAccount, account=staking):
        staking.stakeFor(staking, E18, sender=alice)


@pytest.mark.parametrize("who", ["alice", "guardian", "notifier", "attacker"])
def test_only_admin_grants_guardian(staking, who, request):
    caller = request.getfixturevalue(who)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=staking.DEFAULT_ADMIN_ROLE()):
        staking.grantRole(staking.GUARDIAN_ROLE(), caller, sender=caller)


def test_token_genesis_and_metadata(token, deployer, notifier):
    assert token.name() == "Venice Token"
    assert token.symbol() == "VVV"
    assert token.decimals() == 18
    assert token.totalSupply() == 100_000_000 * E18
    assert token.balanceOf(deployer) == 100_000_000 * E18
    assert token.minter() == notifier
