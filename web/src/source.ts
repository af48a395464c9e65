// The rule that gives each day its one allotment source: the same as EpochOracle.allotmentSource
// and vvv.chain.epochs.allotment_source (SPEC.md, EpochOracle, vcuAllocation).
export const EPOCH_SECONDS = 86_400;

export type Source = "not yet known" | "report" | "fallback";

/** What the chain stores that decides the source of the allotments of `epoch`. */
export interface DayFacts {
  epoch: number;
  firstEpoch: number;
  postedAt: number; // of the report of epoch - 1; 0: none posted
  version: number; // 1: the epoch's first report; more: a corrected one (one was rejected)
  rejected: boolean;
  deadline: number; // seconds after the day's start
}

export function allotmentSource(f: DayFacts, now: number): Source {
  const start = f.epoch * EPOCH_SECONDS;
  if (f.epoch === 0 || start > now) return "not yet known";
  if (f.epoch - 1 < f.firstEpoch) return "fallback";
  const deadline = start + f.deadline;
  if (f.postedAt === 0) return now < deadline ? "not yet known" : "fallback";
  if (f.version === 1 && f.postedAt < deadline && !f.rejected) return "report";
  return "fallback";
}
