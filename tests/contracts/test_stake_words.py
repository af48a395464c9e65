"""The packed checkpoint values of VVVStaking (`contracts/utils/StakeWords.sol`): the bit layout
of each diagram, round trips at the edges of every field, and SafeCast refusing what does not fit.
The layout is written here from the diagrams (stake in the low 96 bits, the 112-bit field above)."""

import ape
import pytest

STAKE_BITS = 96
FIELD_BITS = 112
MAX_STAKE = 2**STAKE_BITS - 1
MIN_ORIGIN, MAX_ORIGIN = -(2 ** (FIELD_BITS - 1)), 2 ** (FIELD_BITS - 1) - 1
MAX_FIELD = 2**FIELD_BITS - 1


@pytest.fixture(scope="module")
def words(project, deployer):
    return project.StakeWordsMock.deploy(sender=deployer)


@pytest.mark.parametrize("stake", [1, 10**15, MAX_STAKE])
@pytest.mark.parametrize("origin", [MIN_ORIGIN, -1, 0, 1, 12345 * 10**18, MAX_ORIGIN])
def test_account_word_with_stake(words, stake, origin):
    raw = words.withStake(stake, origin)
    assert raw == (origin % 2**FIELD_BITS) << STAKE_BITS | stake  # two's complement in the field
    assert words.account(raw)[:2] == (stake, origin)


@pytest.mark.parametrize("earned", [0, 1, 10**18, MAX_FIELD])
def test_account_word_without_stake(words, earned):
    raw = words.withoutStake(earned)
    assert raw == earned << STAKE_BITS
    stake, _, earned_back = words.account(raw)
    assert (stake, earned_back) == (0, earned)


@pytest.mark.parametrize("rpt", [0, 1, 2**111, MAX_FIELD])
@pytest.mark.parametrize("total", [0, 1, MAX_STAKE])
def test_total_word(words, rpt, total):
    raw = words.packTotal(rpt, total)
    assert raw == rpt << STAKE_BITS | total
    assert words.total(raw) == (rpt, total)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda w: w.withStake(MAX_STAKE + 1, 0), "SafeCastOverflowedUintDowncast"),
        (lambda w: w.withStake(1, MAX_ORIGIN + 1), "SafeCastOverflowedIntDowncast"),
        (lambda w: w.withStake(1, MIN_ORIGIN - 1), "SafeCastOverflowedIntDowncast"),
        (lambda w: w.withoutStake(MAX_FIELD + 1), "SafeCastOverflowedUintDowncast"),
        (lambda w: w.packTotal(MAX_FIELD + 1, 0), "SafeCastOverflowedUintDowncast"),
        (lambda w: w.packTotal(0, MAX_STAKE + 1), "SafeCastOverflowedUintDowncast"),
    ],
)
def test_packing_refuses_what_does_not_fit(words, call, error):
    with ape.reverts(getattr(words, error)):
        call(words)
