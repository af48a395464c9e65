// Compute rights (SPEC.md "ComputeRights"), the page's pure part: the price as the contract
// computes it (RightsPricing.quoteMint), the day's allowance and cap, why minting is impossible
// today, and the rights panel's form checks. No chain access here (tests/dashboard run it in node
// against an exact Python computation); the reads and the transactions are in main.ts / actions.ts.
import { getAddress, isAddress } from "viem";
import { grouped, parseAmount } from "./amounts.js"; // ".js": node runs the compiled file in tests/dashboard/test_rights_math.py

const BPS = 10_000n;
export const FLOOR_BPS = 500n; // RightsPricing.FLOOR_BPS
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** What the price of a mint depends on besides the rights minted (RightsPricing.Market). */
export interface PriceInputs {
  rightsAtStart: bigint; // rights outstanding at the epoch's start, R_start
  mintedToday: bigint; // minted earlier in the epoch
  rightsCap: bigint; // RCAP
  capacity: bigint; // the report of the epoch before: its capacity
  totalActiveStake: bigint; // ... and its total active stake
  totalFreeStaked: bigint; // the free stake at that report's snapshot
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** VVV (wei) that minting `rights` locks: ceil(T_eff * (2 RCAP n + 3 n (2 R + 2 m + n)) /
 * (2 RCAP (capacity - R))), T_eff = max(totalActive, totalFree * 5 %), one rounding, up. Null when
 * the contract would revert (no cap, or no pool left above the rights out at the start). */
export function quoteMint(m: PriceInputs, rights: bigint): bigint | null {
  if (m.rightsCap === 0n || m.capacity <= m.rightsAtStart) return null;
  const tEffBps = m.totalActiveStake * BPS > m.totalFreeStaked * FLOOR_BPS ? m.totalActiveStake * BPS : m.totalFreeStaked * FLOOR_BPS;
  const integral = 2n * m.rightsCap * rights + 3n * rights * (2n * m.rightsAtStart + 2n * m.mintedToday + rights);
  return ceilDiv(tEffBps * integral, BPS * 2n * m.rightsCap * (m.capacity - m.rightsAtStart));
}

/** The most rights (wei) whose quote is at most `budget`, and at most `limit` (quote grows with n). */
export function mostAffordable(m: PriceInputs, budget: bigint, limit: bigint): bigint {
  if (limit <= 0n || quoteMint(m, 0n) === null) return 0n;
  let lo = 0n; // affordable
  let hi = limit + 1n; // not affordable or above the limit
  if (quoteMint(m, limit)! <= budget) return limit;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (quoteMint(m, mid)! <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** An account's allowance against one report: QUOTA * leafStake / totalActiveStake, floored. */
export function allowance(quota: bigint, leafStake: bigint, totalActiveStake: bigint): bigint {
  return totalActiveStake === 0n ? 0n : (quota * leafStake) / totalActiveStake;
}

/** Rights that can still be minted under the cap: min(RCAP, minCapacity / 2) - outstanding. */
export function capLeft(rightsCap: bigint, minCapacity: bigint, outstanding: bigint): bigint {
  const limit = minCapacity / 2n < rightsCap ? minCapacity / 2n : rightsCap;
  return limit > outstanding ? limit - outstanding : 0n;
}

/** Everything that decides whether the account can mint today. */
export interface MintDay {
  epoch: number;
  paused: boolean;
  source: "not yet known" | "report" | "fallback";
  final: boolean; // the report of epoch - 1
  inActiveSet: boolean; // the account has a leaf in it (its proof was served and checked)
  allowanceLeft: bigint;
  capLeft: bigint;
  freeStake: bigint;
  pricedOk: boolean; // the report's capacity is above the rights out at the start
}

/** One line saying why minting is impossible today, or null when it is possible. */
export function whyNoMint(d: MintDay): string | null {
  const report = `the report of epoch ${d.epoch - 1}`;
  if (d.paused) return "minting is paused by the guardian (repay, activate and deactivate still work)";
  if (d.source === "fallback") return `no mint today: today's allotments come from the fallback (${report} was late or rejected)`;
  if (d.source !== "report") return `no mint yet today: ${report} is not posted (mints need it final)`;
  if (!d.final) return `no mint yet today: ${report} is in its dispute window (mints need it final)`;
  if (!d.pricedOk) return `no mint today: ${report}'s capacity leaves no pool above the rights out`;
  if (!d.inActiveSet) return `no mint today: you are not in the active set of ${report}, so you have no allowance`;
  if (d.allowanceLeft === 0n) return `no mint today: you minted your whole allowance against ${report}`;
  if (d.capLeft === 0n) return "no mint: the rights out have reached the cap";
  if (d.freeStake === 0n) return "no mint: you have no free stake to lock";
  return null;
}

export class RightsCheckError extends Error {}

const fail = (message: string): never => {
  throw new RightsCheckError(message);
};

/** "1.5" VCR -> 1.5e18 wei: a one-line error for empty, negative, malformed or too precise input. */
export function parseRights(text: string, what: string): bigint {
  try {
    return parseAmount(text, what);
  } catch (err) {
    throw new RightsCheckError((err as Error).message);
  }
}

/** Exact decimal of a wei amount with its unit: 1.5e18 -> "1.5 VCR". */
export const exactUnits = (wei: bigint, unit: string) => `${grouped(wei)} ${unit}`;

/** The account a right is activated for: empty means `own`; else a 0x address of 40 hex digits
 * (a mixed-case one must carry a valid EIP-55 checksum), not the zero address. */
export function checkAccount(text: string, own: string): `0x${string}` {
  const t = text.trim();
  if (t === "") return getAddress(own);
  if (!/^0x[0-9a-fA-F]{40}$/.test(t)) fail(`not an address (0x and 40 hex digits): "${t}"`);
  const hex = t.slice(2);
  const oneCase = hex === hex.toLowerCase() || hex === hex.toUpperCase(); // EIP-55: no checksum to check
  if (!oneCase && !isAddress(t, { strict: true })) fail(`the address's checksum (EIP-55, its upper and lower case) is wrong: "${t}"`);
  if (BigInt(t) === 0n) fail("the zero address cannot hold rights: enter the agent's address");
  return getAddress(t.toLowerCase());
}

/** The mint box: positive, within the allowance left, the cap left, and affordable. */
export function checkMint(text: string, d: MintDay, quote: bigint | null): bigint {
  const rights = parseRights(text, "rights to mint");
  const why = whyNoMint(d);
  if (why) fail(why);
  if (rights > d.allowanceLeft) fail(`above your allowance: ${exactUnits(d.allowanceLeft, "VCR")} left against today's report`);
  if (rights > d.capLeft) fail(`above the cap: ${exactUnits(d.capLeft, "VCR")} can still be minted`);
  if (quote !== null && quote > d.freeStake) {
    fail(`minting ${exactUnits(rights, "VCR")} locks ${exactUnits(quote, "VVV")}; your free stake is ${exactUnits(d.freeStake, "VVV")}`);
  }
  return rights;
}

export function checkRepay(text: string, minted: bigint, balance: bigint): bigint {
  const rights = parseRights(text, "rights to repay");
  if (minted === 0n) fail("you have no position: only rights you minted can be repaid (bought rights cannot)");
  if (rights > minted) fail(`above your position: you minted ${exactUnits(minted, "VCR")} not yet repaid`);
  if (rights > balance) fail(`your wallet holds ${exactUnits(balance, "VCR")}: deactivate and reclaim rights first`);
  return rights;
}

export function checkActivate(text: string, account: string, own: string, balance: bigint): [bigint, `0x${string}`] {
  const rights = parseRights(text, "rights to activate");
  const to = checkAccount(account, own);
  if (rights > balance) fail(`your wallet holds ${exactUnits(balance, "VCR")}, asked to activate ${exactUnits(rights, "VCR")}`);
  return [rights, to];
}

export function checkDeactivate(text: string, account: string, own: string, activated: (a: string) => bigint): [bigint, `0x${string}`] {
  const rights = parseRights(text, "rights to deactivate");
  const to = checkAccount(account, own);
  const have = activated(to);
  if (have === 0n) fail(`you have activated no rights for ${to}`);
  if (rights > have) fail(`you activated ${exactUnits(have, "VCR")} for ${to}, asked to deactivate ${exactUnits(rights, "VCR")}`);
  return [rights, to];
}
