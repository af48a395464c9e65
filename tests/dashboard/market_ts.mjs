// Runs the calls of tests/dashboard/test_market_math.py (JSON on stdin, every bigint a decimal
// string) through web/src/market.ts and web/src/calc.ts compiled by tsc (their folder: the first
// argument).
import { readFileSync } from "node:fs";

const M = await import(`${process.argv[2]}/market.js`);
const C = await import(`${process.argv[2]}/calc.js`);
const c = JSON.parse(readFileSync(0, "utf8"));
const s = (v) => (v === null ? null : String(v));
const BIG = ["capacity", "rightsToday", "pool", "activeStake", "allStake", "totalStaked", "rewardedStake", "rateScaled",
  "staked", "freeStake", "earned", "stakersDaily"];
const parse = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, BIG.includes(k) && v !== null ? BigInt(v) : v]));
const each = (key, f) => (c[key] ?? []).map(f);
console.log(JSON.stringify({
  pool: each("pool", ([cap, a]) => s(M.poolOf(BigInt(cap), BigInt(a)))),
  aprNow: each("aprNow", (m) => s(M.aprNow(parse(m)))),
  aprLast: each("aprLast", (m) => s(M.aprAtLastUtilization(parse(m)))),
  earned: each("earned", ([p, m, t]) => s(M.earnedAt(parse(p), parse(m), t))),
  allotment: each("allotment", (x) => s(C.allotment(...x.map(BigInt)))),
  stakeNeeded: each("stakeNeeded", (x) => s(C.stakeNeeded(...x.map(BigInt)))),
}));
