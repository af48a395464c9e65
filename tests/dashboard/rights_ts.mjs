// Runs the calls of tests/dashboard/test_rights_math.py (JSON on stdin, every bigint a decimal
// string) through web/src/rights.ts compiled by tsc (its path: the first argument).
import { readFileSync } from "node:fs";

const R = await import(process.argv[2]);
const c = JSON.parse(readFileSync(0, "utf8"));
const big = (xs) => xs.map(BigInt);
const market = ([r, m, rcap, cap, a, f]) => ({
  rightsAtStart: r, mintedToday: m, rightsCap: rcap, capacity: cap, totalActiveStake: a, totalFreeStaked: f,
});
const s = (v) => (v === null ? null : String(v));
const tryIt = (f) => {
  try {
    return { ok: s(f()) };
  } catch (e) {
    return { error: e.message };
  }
};
const day = (d) => ({ ...d, allowanceLeft: BigInt(d.allowanceLeft), capLeft: BigInt(d.capLeft), freeStake: BigInt(d.freeStake) });
const each = (key, f) => (c[key] ?? []).map(f);
console.log(JSON.stringify({
  price: each("price", (x) => { const [n, ...m] = big(x); return s(R.quoteMint(market(m), n)); }),
  afford: each("afford", ([m, budget, limit]) => s(R.mostAffordable(market(big(m)), BigInt(budget), BigInt(limit)))),
  allowance: each("allowance", (x) => s(R.allowance(...big(x)))),
  capLeft: each("capLeft", (x) => s(R.capLeft(...big(x)))),
  why: each("why", (d) => R.whyNoMint(day(d))),
  account: each("account", ([t, own]) => tryIt(() => R.checkAccount(t, own))),
  mint: each("mint", ([t, d, q]) => tryIt(() => R.checkMint(t, day(d), q === null ? null : BigInt(q)))),
  repay: each("repay", ([t, minted, bal]) => tryIt(() => R.checkRepay(t, BigInt(minted), BigInt(bal)))),
  activate: each("activate", ([t, a, own, bal]) => tryIt(() => R.checkActivate(t, a, own, BigInt(bal)).join(" "))),
}));
