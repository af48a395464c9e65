"""The price of compute rights (`contracts/utils/RightsPricing.sol`) against SPEC.md's formula,
computed here independently in exact rationals:

    T_eff       = max(totalActiveStake, totalFreeStaked * 500 / 10_000)       (exact)
    quoteMint(n) = ceil(T_eff * (2*RCAP*n + 3*n*(2*R + 2*m + n)) / (2*RCAP*(capacity - R)))

on random inputs (log-uniform up to 2^100, the library's stated domain) and at the edges;
additivity, monotonicity and the direction of the rounding. About 400 view calls: ~6 s a provider."""

import random
from fractions import Fraction
from math import ceil

import ape
import pytest

from tests.helpers import E18

DOMAIN_BITS = 100
SEED = 20261205


@pytest.fixture(scope="module")
def pricing(project, deployer):
    return project.RightsPricingMock.deploy(sender=deployer)


def exact_price(n: int, r: int, m: int, rcap: int, capacity: int, active: int, free: int) -> Fraction:
    """The integral of the marginal price base * (1 + 3 r / RCAP) from R + m to R + m + n,
    base = T_eff / (capacity - R), with no rounding at all."""
    t_eff = max(Fraction(active), Fraction(free * 500, 10_000))
    base = t_eff / (capacity - r)
    # integral of (1 + 3x/RCAP) dx from a to a + n = n + 3/(2 RCAP) * ((a + n)^2 - a^2)
    a = r + m
    return base * (n + Fraction(3, 2 * rcap) * ((a + n) ** 2 - a**2))


def quote_of(pricing, n: int, r: int, m: int, rcap: int, capacity: int, active: int, free: int) -> int:  # noqa: ANN001
    """The contract's quote of `n` rights, its market (a `RightsPricing.Market`) from the rest."""
    return pricing.quoteMint((r, m, rcap, capacity, active, free), n)


def expected_quote(*args: int) -> int:
    return ceil(exact_price(*args))


def _amount(rng: random.Random) -> int:
    return rng.getrandbits(rng.randint(0, DOMAIN_BITS))


def random_case(rng: random.Random) -> tuple[int, int, int, int, int, int, int]:
    rcap = max(1, _amount(rng))
    r = _amount(rng)
    capacity = r + max(1, _amount(rng))
    return (_amount(rng), r, _amount(rng), rcap, capacity, _amount(rng), _amount(rng))


EDGE_CASES = [
    (0, 0, 0, 1, 1, 0, 0),
    (0, 5, 7, 11, 13, 17, 19),  # zero rights cost zero
    (1, 0, 0, 1, 1, 1, 0),  # 1 * (2 + 3) / 2 = 2.5 -> 3
    (1, 0, 0, 1, 1, 0, 0),  # nothing staked: free
    (2**DOMAIN_BITS - 1,) * 3 + (2**DOMAIN_BITS - 1, 2**DOMAIN_BITS, 2**DOMAIN_BITS - 1, 2**DOMAIN_BITS - 1),
    (1, 2**DOMAIN_BITS - 2, 0, 1, 2**DOMAIN_BITS - 1, 2**DOMAIN_BITS - 1, 0),  # a one-wei pool
    (1, 0, 0, 2**DOMAIN_BITS - 1, 2**DOMAIN_BITS - 1, 1, 0),  # a price far below one wei: 1
]


def test_worked_example(pricing):
    # RCAP 1,000, capacity 2,000, nothing out, 1,000 staked and active, 10 rights:
    # (2*1000*10 + 3*10*10) / (2*1000*2000) * 1000 = 20,300 / 4,000 = 5.075 -> 6 wei.
    assert quote_of(pricing, 10, 0, 0, 1_000, 2_000, 1_000, 0) == 6
    # Venice-like: RCAP 90,000 VCU, capacity 181,480 VCU, 30M VVV active: the first VCU right
    # costs 30M / 181,480 * (1 + 3/(2*90,000)) VVV = 165.31 VVV, rounded up to the wei.
    quote = quote_of(pricing, E18, 0, 0, 90_000 * E18, 181_480 * E18, 30_000_000 * E18, 0)
    exact = Fraction(30_000_000 * E18, 181_480) * (1 + Fraction(3, 2 * 90_000))
    assert quote == ceil(exact) == 165_310_227_022_261_406_216


@pytest.mark.parametrize("case", EDGE_CASES)
def test_edge_cases(pricing, case):
    assert quote_of(pricing, *case) == expected_quote(*case)


def test_random_inputs_match_the_formula(pricing):
    rng = random.Random(SEED)
    for _ in range(120):
        case = random_case(rng)
        assert quote_of(pricing, *case) == expected_quote(*case), case


def test_rounding_never_favours_the_minter(pricing):
    # The quote is the exact price rounded up: at least the price, and less than one wei above.
    rng = random.Random(SEED + 1)
    for _ in range(60):
        case = random_case(rng)
        quote, price = quote_of(pricing, *case), exact_price(*case)
        assert price <= quote < price + 1, case


def test_floor_applies_at_launch(pricing):
    # 1,000,000 VVV free but only 10 VVV active: the base is 5% of the free stake (50,000 VVV),
    # not the active 10 VVV: 50,000 VVV * 20,300 / 4,000,000, exact.
    floor = quote_of(pricing, 10, 0, 0, 1_000, 2_000, 10 * E18, 1_000_000 * E18)
    assert floor == 50_000 * E18 * 20_300 // 4_000_000 == 253_750 * 10**15  # 253.75 VVV
    # With more active than 5% of the free stake, the active stake is the base.
    assert quote_of(pricing, 10, 0, 0, 1_000, 2_000, 60_000 * E18, 1_000_000 * E18) == 304_500 * 10**15
    # The floor is exact, not floored: 19 wei free is a base of 0.95 wei, so the whole cap of
    # the example, 1,000 rights, costs ceil(0.95 * (2*1000*1000 + 3*1000*1000) / 4,000,000)
    # = ceil(1.1875) = 2 wei (a base floored to 0 would make them free).
    assert pricing.baseStakeBps(0, 19) == 19 * 500
    assert quote_of(pricing, 1_000, 0, 0, 1_000, 2_000, 0, 19) == 2


def test_two_mints_cost_what_one_of_the_sum_costs(pricing):
    # quote(a at m) + quote(b at m + a) is the exact price of a + b at m, rounded up twice:
    # at least the one quote of a + b, and at most one wei more.
    rng = random.Random(SEED + 2)
    for _ in range(60):
        a, r, m, rcap, capacity, active, free = random_case(rng)
        b = _amount(rng)
        split = quote_of(pricing, a, r, m, rcap, capacity, active, free) + quote_of(
            pricing, b, r, m + a, rcap, capacity, active, free
        )
        whole = quote_of(pricing, a + b, r, m, rcap, capacity, active, free)
        assert whole <= split <= whole + 1, (a, b, r, m)


def test_never_decreasing_in_rights_outstanding(pricing):
    # More rights out at the epoch's start (or minted earlier today), or more rights minted:
    # never cheaper.
    rng = random.Random(SEED + 3)
    for _ in range(40):
        n, r, m, rcap, capacity, active, free = random_case(rng)
        quote = quote_of(pricing, n, r, m, rcap, capacity, active, free)
        step = 1 + _amount(rng) % (capacity - r)  # keeps R + step < capacity
        if r + step < capacity:
            assert quote_of(pricing, n, r + step, m, rcap, capacity, active, free) >= quote
        assert quote_of(pricing, n, r, m + step, rcap, capacity, active, free) >= quote
        assert quote_of(pricing, n + step, r, m, rcap, capacity, active, free) >= quote


def test_refuses_what_cannot_be_priced(pricing):
    with ape.reverts(pricing.ZeroRightsCap):
        quote_of(pricing, 1, 0, 0, 0, 10, 1, 1)
    with ape.reverts(pricing.CapacityNotAboveRights, capacity=1_000, rightsAtStart=1_000):
        quote_of(pricing, 1, 1_000, 0, 5, 1_000, 1, 1)
    with ape.reverts(pricing.CapacityNotAboveRights, capacity=1_000, rightsAtStart=1_001):
        quote_of(pricing, 1, 1_001, 0, 5, 1_000, 1, 1)
