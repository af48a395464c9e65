"""The numbers and the plot of docs/compute-rights.md, from SPEC.md "ComputeRights" alone.

    python3 tools/rights_curve.py                                    # the doc's numbers (plain python)
    .venv/bin/python tools/rights_curve.py --png docs/img/rights-curve.png   # also the plot (matplotlib)

An implementation independent of the contracts: exact fractions of wei, one rounding up at the
end of a quote, as the SPEC says. Nothing here imports `vvv` or reads a chain; the inputs are
the constants below (the SPEC's numbers, the demo's last report, and stated assumptions)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from fractions import Fraction
from math import ceil

E18 = 10**18
FLOOR_BPS = 500  # SPEC: immutable
BPS = 10_000
QUOTA_DIVISOR = 20  # SPEC: QUOTA = RCAP / 20
EPOCH_EMISSION = 14_000_000 * E18 // 365  # SPEC "Numbers"
CAPACITY = 181_480 * E18  # SPEC "Numbers": the daily capacity at launch

# The demo (`make demo`: seed 7, 40 stakers, 14 days), its last report (day 14, for the
# allotments of day 15): totalActiveStake and the total staked at its snapshot, in wei, from
# the run's proofs file and summary.json. Its split that day: the stakers' share in bps.
DEMO_ACTIVE = 2_130_092_919_896_157_364_714_609  # reports/1337/20807.json: total_active_stake (17 leaves)
DEMO_STAKED = 15_934_796_851_676_738_851_530_176  # summary.json: total_staked at the run's end
DEMO_STAKER_BPS = 7758  # summary.json, day 14: utilization 9,799 bps

# Venice-like assumptions (stated in the doc): the seed's capacity, a third of the 100M supply
# staked, a tenth of that stake API-active, and the largest cap the pool's lower bound allows.
VENICE_STAKED = 35_000_000 * E18
VENICE_ACTIVE = 3_500_000 * E18
VENICE_RCAP = CAPACITY // 2
STAKER = 10_000 * E18


@dataclass(frozen=True)
class Market:
    rcap: int
    capacity: int
    active: int  # the report's totalActiveStake (free stakes, once wired)
    free: int  # the free stake at the report's snapshot
    r_start: int = 0  # rights outstanding at the epoch's start
    minted_today: int = 0


def t_eff(m: Market) -> Fraction:
    """SPEC: T_eff = max(totalActiveStake, totalFreeStaked * FLOOR_BPS / 10_000), exact."""
    return max(Fraction(m.active), Fraction(m.free * FLOOR_BPS, BPS))


def quote_exact(m: Market, n: int) -> Fraction:
    """The SPEC's integral before rounding: VVV wei locked by minting n wei of rights."""
    assert m.capacity > m.r_start
    numerator = 2 * m.rcap * n + 3 * n * (2 * m.r_start + 2 * m.minted_today + n)
    return t_eff(m) * numerator / (2 * m.rcap * (m.capacity - m.r_start))


def quote(m: Market, n: int) -> int:
    """quoteMint(n): one rounding, up."""
    return ceil(quote_exact(m, n))


def marginal(m: Market, r: Fraction) -> Fraction:
    """VVV per right of the r-th right out (both in whole units): base * (1 + 3 r / RCAP)."""
    base = t_eff(m) / (m.capacity - m.r_start)
    return base * (1 + 3 * r * E18 / m.rcap)


def staker_bps(u: int) -> int:
    """SPEC "Emission split": the stakers' share in bps at utilization u (bps)."""
    return 8000 - 6000 * u // 5000 if u <= 5000 else 2000 + 6000 * (u - 5000) // 5000


def vvv(wei: int | Fraction, places: int = 2) -> str:
    return f"{float(Fraction(wei) / E18):,.{places}f}"


def nth_right(m: Market, r: int) -> int:
    """What the r-th right costs when it is the first minted on a day that starts with r - 1 out."""
    day = Market(m.rcap, m.capacity, m.active, m.free, r_start=(r - 1) * E18)
    return quote(day, E18)


def venice(lines: list[str]) -> Market:
    m = Market(VENICE_RCAP, CAPACITY, VENICE_ACTIVE, VENICE_STAKED)
    lines.append("## Venice-like numbers")
    lines.append(
        f"capacity {vvv(CAPACITY, 0)} VCU, RCAP {vvv(m.rcap, 0)} VCU (QUOTA {vvv(m.rcap // QUOTA_DIVISOR, 0)}/day),"
        f" free stake {vvv(m.free, 0)} VVV, active stake {vvv(m.active, 0)} VVV,"
        f" T_eff {vvv(t_eff(m), 0)} VVV (floor {vvv(m.free * FLOOR_BPS // BPS, 0)})"
    )
    for r in (1, 10_000, 90_000):
        price = nth_right(m, r)
        mr = Market(m.rcap, m.capacity, m.active, m.free, r_start=(r - 1) * E18)
        lines.append(
            f"right #{r:,}: {vvv(price, 4)} VVV ({price} wei); pool then {vvv(CAPACITY - (r - 1) * E18, 0)} VCU;"
            f" {float(Fraction(price) / nth_right(m, 1)):.3f}x the first;"
            f" marginal at r={r - 1:,}: {float(marginal(mr, Fraction(r - 1))):.4f}"
        )
    all_day = quote(m, m.rcap // QUOTA_DIVISOR)
    lines.append(
        f"a whole day's quota ({vvv(m.rcap // QUOTA_DIVISOR, 0)}) at R_start 0: {vvv(all_day)} VVV,"
        f" {vvv(Fraction(all_day, m.rcap // QUOTA_DIVISOR) * E18, 4)} VVV per right"
    )
    # additivity: two mints cost what one of the sum costs, up to one wei per extra rounding
    a, b = 1_234 * E18 + 5, 777 * E18 + 3
    one = quote(m, a + b)
    two = quote(m, a) + quote(Market(m.rcap, m.capacity, m.active, m.free, minted_today=a), b)
    lines.append(f"additivity: quote(a+b) = {one}, quote(a) + quote(b after a) = {two} (difference {two - one} wei)")
    # the yield a lock gives up, at the 50/50 split (25 % or 75 % utilization)
    yearly = Fraction(EPOCH_EMISSION * 365 * 5000, BPS)
    apr = yearly / m.free
    lines.append(
        f"stakers' APR at a 50/50 split with {vvv(m.free, 0)} VVV staked: {float(apr) * 100:.2f} %;"
        f" right #1 then gives up {vvv(nth_right(m, 1) * apr, 4)} VVV a year"
        f" ({vvv(nth_right(m, 1) * apr / 365, 6)} a day) for 1 VCU a day"
    )
    # the floor at launch: little stake active
    launch = Market(m.rcap, m.capacity, 100_000 * E18, m.free)
    unfloored = quote_exact(Market(m.rcap, m.capacity, 100_000 * E18, 0), E18)
    lines.append(
        f"launch, 100,000 VVV active: T_eff {vvv(t_eff(launch), 0)} VVV (the floor), right #1"
        f" {vvv(quote(launch, E18), 4)} VVV (without the floor {vvv(unfloored, 4)})"
    )
    return m


def demo(lines: list[str]) -> None:
    active = DEMO_ACTIVE + STAKER  # the staker joins the active set
    free = DEMO_STAKED + STAKER
    m = Market(VENICE_RCAP, CAPACITY, active, free)
    lines.append("## The demo's pool, a staker with 10,000 VVV (active)")
    lines.append(
        f"demo active stake {vvv(DEMO_ACTIVE)} VVV, staked {vvv(DEMO_STAKED)} VVV; with the staker"
        f" {vvv(active)} / {vvv(free)}; T_eff {vvv(t_eff(m))}"
    )
    pool_share = Fraction(STAKER * CAPACITY, active)
    lines.append(
        f"pool allotment: {vvv(pool_share, 4)} VCU a day ({float(Fraction(CAPACITY, active)):.6f} VCU per VVV)"
    )
    quota = m.rcap // QUOTA_DIVISOR
    allowance = quota * STAKER // active
    price = quote(m, allowance)
    lines.append(
        f"RCAP {vvv(m.rcap, 0)}, QUOTA {vvv(quota, 0)}: allowance {vvv(allowance, 4)} rights; minting it"
        f" at R_start 0 locks {vvv(price, 4)} VVV ({vvv(Fraction(price, allowance) * E18, 4)} per right)"
    )
    # after the lock: the pool share of the free stake (once the oracle reports free stakes), plus rights
    free_after, active_after = STAKER - price, active - price
    pool_after = Fraction((CAPACITY - allowance) * free_after, active_after)
    lines.append(
        f"after it (rights activated to itself, the oracle on free stakes): rights {vvv(allowance, 4)}"
        f" + pool {vvv(pool_after, 4)} = {vvv(allowance + pool_after, 4)} VCU a day (was {vvv(pool_share, 4)})"
    )
    daily = EPOCH_EMISSION * DEMO_STAKER_BPS // BPS
    lines.append(
        f"the yield given up: at the demo's last split ({DEMO_STAKER_BPS} bps, {vvv(daily)} VVV a day to"
        f" {vvv(free)} staked) {vvv(Fraction(daily * price, free), 6)} VVV a day"
    )
    days = ceil(Fraction(STAKER, price))
    lines.append(f"at that pace (price and allowance unchanged) the whole stake takes about {days} days to lock")


def who_bears(lines: list[str]) -> None:
    lines.append("## Who bears what")
    rights = 60_000 * E18
    for cap in (CAPACITY, 150_000 * E18):
        pool = cap - rights
        lines.append(
            f"capacity {vvv(cap, 0)}, {vvv(rights, 0)} rights active: pool {vvv(pool, 0)}"
            f" ({float(Fraction(pool, cap)) * 100:.1f} % of capacity)"
        )
    lines.append(
        f"capacity cut {vvv(CAPACITY, 0)} -> 150,000: rights {vvv(rights, 0)} unchanged, pool"
        f" -{float(1 - Fraction(150_000 * E18 - rights, CAPACITY - rights)) * 100:.1f} %"
    )
    for pool_used in (2_000, 5_000):
        rights_used = rights * BPS // CAPACITY
        u = min(BPS, pool_used + rights_used)
        lines.append(
            f"pool use {pool_used} bps + rights fully used {rights_used} bps = {u} bps:"
            f" stakers' share {staker_bps(pool_used)} -> {staker_bps(u)} bps"
        )
    cap_pool = CAPACITY - VENICE_RCAP
    lines.append(
        f"at the cap ({vvv(VENICE_RCAP, 0)} rights) the pool is {vvv(cap_pool, 0)} VCU: a staker who does not"
        f" mint keeps at least {float(Fraction(cap_pool, CAPACITY)) * 100:.0f} % of its allotment (same stakes)"
    )
    for locked_share in (10, 25):
        lines.append(
            f"{locked_share} % of the stake locked: the others' rewards per VVV x"
            f" {float(Fraction(100, 100 - locked_share)):.4f}"
        )


def plot(path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = Market(VENICE_RCAP, CAPACITY, VENICE_ACTIVE, VENICE_STAKED)
    top = VENICE_RCAP // E18
    rs = list(range(0, top + 1, top // 200))
    fixed = [float(marginal(m, Fraction(r))) for r in rs]
    moving = [float(marginal(Market(m.rcap, m.capacity, m.active, m.free, r_start=r * E18), Fraction(r))) for r in rs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    left.plot(rs, moving, color="#d62728", label="next right, on a day that starts with R out")
    left.plot(rs, fixed, color="#444", linestyle="--", label="the base held at R = 0: base x (1 + 3 R / RCAP)")
    left.set(
        xlabel="rights outstanding R (VCR)",
        ylabel="VVV locked per right",
        xlim=(0, top * 1.02),
        ylim=(0, None),
        title="Price of a right (Venice-like numbers)",
    )
    right.stackplot(
        rs, [rs, [CAPACITY // E18 - r for r in rs]], labels=["rights (at most)", "pool"], colors=["#ff7f0e", "#1f77b4"]
    )
    right.axhline(CAPACITY // E18 / 2, color="#444", linestyle=":", label="half the capacity")
    right.set(
        xlabel="rights outstanding R (VCR)",
        ylabel="VCU a day",
        xlim=(0, top),
        ylim=(0, CAPACITY // E18 * 1.05),
        title="The day's capacity: rights and pool",
    )
    for ax in (left, right):
        ax.xaxis.set_major_formatter("{x:,.0f}")
    right.yaxis.set_major_formatter("{x:,.0f}")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", help="also draw the plot into this PNG (needs matplotlib)")
    args = parser.parse_args()
    lines: list[str] = []
    # the contract's tested value (tests/contracts/test_rights_pricing.py, test_worked_example)
    tested = quote(Market(90_000 * E18, CAPACITY, 30_000_000 * E18, 0), E18)
    lines.append(f"the contract test's worked example: {tested} wei ({tested == 165_310_227_022_261_406_216})")
    venice(lines)
    demo(lines)
    who_bears(lines)
    print("\n".join(lines))
    if args.png:
        plot(args.png)


if __name__ == "__main__":
    main()
