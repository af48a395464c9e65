// The VCU calculator, a port of vvv/staker/calc.py. A stake counts as new stake joining the stake
// `pool` that shares `capacity`: allotment = stake * capacity / (pool + stake), floored as
// EpochOracle.vcuAllocation does. The page passes today's VCU pool as `capacity` (the capacity
// less today's compute rights, Market.pool) and the free stake sharing it as `pool`, as the CLI.
import type { ModelPrice } from "./api";

const MILLION = 1_000_000n;

export class CalcError extends Error {}

export function allotment(stake: bigint, capacity: bigint, pool: bigint): bigint {
  return stake <= 0n ? 0n : (stake * capacity) / (pool + stake);
}

/** Least stake (wei, at least `minimum`) whose allotment is >= `vcu`. */
export function stakeNeeded(vcu: bigint, capacity: bigint, pool: bigint, minimum: bigint): bigint {
  if (vcu <= 0n) throw new CalcError("the workload costs nothing");
  if (vcu > capacity || (vcu === capacity && pool > 0n)) {
    throw new CalcError(`the workload needs more than the whole network's daily capacity`);
  }
  if (pool === 0n) return minimum;
  const ceil = (vcu * pool + (capacity - vcu) - 1n) / (capacity - vcu);
  let stake = ceil > minimum ? ceil : minimum;
  while (allotment(stake, capacity, pool) < vcu) stake += 1n;
  return stake;
}

/** VCU wei of one chat request, rounded up to the wei (as the meter charges). */
export function chatCost(p: ModelPrice, inputTokens: bigint, outputTokens: bigint): bigint {
  const tokens = inputTokens * p.per1mInput + outputTokens * p.per1mOutput;
  return (tokens + MILLION - 1n) / MILLION;
}

export interface Task {
  model: string;
  count: bigint; // requests (chat) or images
  inputTokens: bigint;
  outputTokens: bigint;
}

export function taskCost(t: Task, prices: ModelPrice[]): bigint {
  const p = prices.find((x) => x.model === t.model);
  if (!p) throw new CalcError(`unknown model ${t.model}`);
  if (t.count <= 0n) throw new CalcError(`${t.model}: the count must be > 0`);
  if (t.inputTokens < 0n || t.outputTokens < 0n) throw new CalcError(`${t.model}: token counts must be >= 0`);
  return p.kind === "image" ? t.count * p.perImage : chatCost(p, t.inputTokens, t.outputTokens) * t.count;
}

export interface Buys {
  model: string;
  kind: string;
  requests: bigint | null;
  inputTokens: bigint | null;
  outputTokens: bigint | null;
  images: bigint | null;
}

export function whatItBuys(vcu: bigint, prices: ModelPrice[], inputTokens: bigint, outputTokens: bigint): Buys[] {
  return prices.map((p) => {
    if (p.kind === "image") {
      return { model: p.model, kind: "image", requests: null, inputTokens: null, outputTokens: null, images: p.perImage ? vcu / p.perImage : null };
    }
    const perRequest = chatCost(p, inputTokens, outputTokens);
    return {
      model: p.model,
      kind: "chat",
      requests: perRequest ? vcu / perRequest : null,
      inputTokens: p.per1mInput ? (vcu * MILLION) / p.per1mInput : null,
      outputTokens: p.per1mOutput ? (vcu * MILLION) / p.per1mOutput : null,
      images: null,
    };
  });
}
