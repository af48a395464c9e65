// Today's market and an account's position as the page holds them, and the page's arithmetic on
// them (vvv/staker/market.py): the pool the stakes share, the APRs, the live earned rewards. No
// chain access here (tests/dashboard/test_market_math.py runs it in node against numbers worked
// by hand); the reads are in chain.ts.
//
// Compute rights (SPEC.md "ComputeRights"): stake locked by a mint is out of the reward weight
// (the staking contract's stream pays the free stake: `freeStakeOf` over `totalFreeStaked`), and
// out of the fallback's total; the stakes share the day's pool, the capacity less the rights
// activated for the day (`ComputeRights.totalActivatedAt`), not the whole capacity.
import type { Address } from "./api";
import type { Source } from "./source";

export const EPOCH = 86_400;
export const SECONDS_PER_YEAR = 365n * 86_400n;
export const PRECISION = 10n ** 18n;
export const APR_PLACES = 6; // APR in percent, floored to 6 decimals (as the CLI)

export interface Request {
  id: bigint;
  amount: bigint;
  unlockTime: number;
}

export interface Position {
  account: Address;
  now: number; // chain time of the read (the pending block's timestamp)
  readAt: number; // performance.now() of the read
  wallet: bigint;
  allowance: bigint;
  staked: bigint; // free and locked
  freeStake: bigint; // what earns rewards (locked stake earns none)
  earned: bigint;
  pending: Request[];
}

export interface Market {
  now: number;
  epoch: number;
  capacity: bigint;
  rightsToday: bigint; // compute rights activated for today (0 without a rights contract)
  pool: bigint; // capacity less rightsToday (0 if they reach it): what the stakes share today
  source: Source;
  sourceKnownAt: number; // a "not yet known" day's report deadline
  reportRoot: `0x${string}` | null;
  activeCount: bigint;
  activeStake: bigint; // the free stake sharing today's pool
  allStake: bigint; // every staker's free stake at yesterday's snapshot (the fallback's total)
  totalStaked: bigint; // now, free and locked
  rewardedStake: bigint; // the free stake now: the rewards' weight
  rateScaled: bigint;
  rewardsEnd: number;
  paused: boolean;
  minStake: bigint;
  lastReportedEpoch: number | null;
  lastUtilizationBps: number | null;
  stakersBps: bigint | null;
  stakersDaily: bigint | null;
}

/** The day's pool, as `Allotment.pool`: what the activated rights leave of the capacity. */
export function poolOf(capacity: bigint, totalActivated: bigint): bigint {
  return capacity > totalActivated ? capacity - totalActivated : 0n;
}

/** APR in millionths of a percent, floored: yearly rewards (wei x 1e18) over the stake. */
export function aprMicroPercent(yearlyScaled: bigint, staked: bigint): bigint | null {
  if (staked === 0n) return null;
  return (yearlyScaled * 100n * 10n ** BigInt(APR_PLACES)) / (PRECISION * staked);
}

/** APR from the current stream rate over the rewarded (free) stake (market.py apr_now). */
export function aprNow(m: Market): bigint | null {
  const rate = m.now < m.rewardsEnd ? m.rateScaled : 0n;
  return aprMicroPercent(rate * SECONDS_PER_YEAR, m.rewardedStake);
}

/** APR if every day paid the stakers' part at the last reported utilization, over the free stake. */
export function aprAtLastUtilization(m: Market): bigint | null {
  if (m.stakersDaily === null) return null;
  return aprMicroPercent(m.stakersDaily * 365n * PRECISION, m.rewardedStake);
}

/** Rewards earned at chain time `t`, from a position read at `p.now`: the stream adds
 * freeStake x rate / totalFree per second until its end (the contract floors per update; this is
 * the same to within a few wei). */
export function earnedAt(p: Position, m: Market, t: number): bigint {
  const end = Math.min(t, m.rewardsEnd);
  const start = Math.min(p.now, m.rewardsEnd);
  if (end <= start || m.rewardedStake === 0n || p.freeStake === 0n) return p.earned;
  return p.earned + (p.freeStake * m.rateScaled * BigInt(Math.floor(end - start))) / (m.rewardedStake * PRECISION);
}
