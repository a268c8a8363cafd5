import { maxRequestedCallbacks, type SmartCallbackConfig } from "./batch-options";

// A batch's budget in billed minutes, and the estimate of how many it will
// use. Carriers bill each call by the minute, rounded up, so an attempt's
// minutes are its duration rounded up, and a batch's are their sum.

/** Billed minutes of one finished attempt: its duration rounded up to whole minutes; 0 without a duration (never connected). */
export function billedMinutes(durationSec: number | null | undefined): number {
  return durationSec != null && durationSec > 0 ? Math.ceil(durationSec / 60) : 0;
}

/** The batch row's budget counters (absent in a ledger or summary from before the budget: read as 0). */
export type BudgetCounters = { billed_minutes?: number; attempts_ended?: number };

/** Whether a batch with `billed` minutes has used its budget (no budget: never). */
export function overBudget(maxMinutes: number | null | undefined, billed: number): boolean {
  return maxMinutes != null && billed >= maxMinutes;
}

/** A range, low to high. */
export type Range = { low: number; high: number };

/** How many minutes a batch will bill: calls × attempts per call × minutes per attempt, each a range, and what the range rests on. */
export type Estimate = {
  calls: number;
  attemptsPerCall: Range;
  minutesPerAttempt: Range;
  minutes: Range;
  basis: "agent_history" | "default";
  basedOnAttempts: number;
  note: string;
};

/** The part of an estimate that does not depend on the number of calls: a draft keeps it, and its view multiplies by the calls it has now. */
export type EstimateRates = Omit<Estimate, "calls" | "minutes">;

/** One of the agent's recent batches: its finished attempts, the minutes they billed, and its calls that are done (completed or failed). */
export type HistoryBatch = { attemptsEnded: number; billedMinutes: number; callsDone: number };

/** Below this many finished attempts in the agent's recent batches, the estimate is the default. */
export const HISTORY_MIN_ATTEMPTS = 20;
/** A batch with fewer finished attempts than this is too small to widen the range on its own (it still counts in the pooled rate). */
const BATCH_MIN_ATTEMPTS = 10;
/** The default's minutes per attempt: a short call to a long one. */
export const DEFAULT_MINUTES_PER_ATTEMPT: Range = { low: 1, high: 3 };

/** Attempts one call may get under a batch's smart callbacks: the first and each callback. */
export function maxAttemptsPerCall(config: SmartCallbackConfig | null): number {
  return config?.enabled ? config.maxAttempts : 1;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const plural = (n: number, one: string, many: string) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
const rangeText = (r: Range) => (r.low === r.high ? `${r.low}` : `${r.low}–${r.high}`);

/**
 * The per-call rates of the estimate: from the agent's recent batches when
 * they hold at least HISTORY_MIN_ATTEMPTS finished attempts (the pooled
 * rate, widened to the lowest and highest of the batches big enough to
 * say), else the stated default (1 to the smart callbacks' attempts per
 * call, 1–3 minutes per attempt).
 */
export function estimateRates(history: readonly HistoryBatch[], config: SmartCallbackConfig | null): EstimateRates {
  const attempts = history.reduce((n, b) => n + b.attemptsEnded, 0);
  const maxAttempts = maxAttemptsPerCall(config);
  if (attempts < HISTORY_MIN_ATTEMPTS) {
    const attemptsPerCall = { low: 1, high: maxAttempts };
    return {
      attemptsPerCall,
      minutesPerAttempt: DEFAULT_MINUTES_PER_ATTEMPT,
      basis: "default",
      basedOnAttempts: attempts,
      note:
        `A default: this agent has ${plural(attempts, "finished attempt", "finished attempts")} in its recent batches (under ${HISTORY_MIN_ATTEMPTS}), ` +
        `so each call is taken to need ${rangeText(attemptsPerCall)} ${attemptsPerCall.high === 1 ? "attempt" : "attempts"} (${config?.enabled ? `its smart callbacks allow ${maxAttempts}` : "it has no smart callbacks"}) ` +
        `and each attempt ${rangeText(DEFAULT_MINUTES_PER_ATTEMPT)} billed minutes.`,
    };
  }
  const billed = history.reduce((n, b) => n + b.billedMinutes, 0);
  const done = history.reduce((n, b) => n + b.callsDone, 0);
  const sized = history.filter((b) => b.attemptsEnded >= BATCH_MIN_ATTEMPTS);
  const spread = (pooled: number, each: number[]): Range => ({ low: round2(Math.min(pooled, ...each)), high: round2(Math.max(pooled, ...each)) });
  const minutesPerAttempt = spread(
    billed / attempts,
    sized.map((b) => b.billedMinutes / b.attemptsEnded),
  );
  // A call gets at most its smart callbacks and the callbacks its recipient may ask for; never fewer than one attempt.
  const cap = maxAttempts + maxRequestedCallbacks(config);
  const perCall = spread(
    done > 0 ? attempts / done : 1,
    sized.filter((b) => b.callsDone > 0).map((b) => b.attemptsEnded / b.callsDone),
  );
  const attemptsPerCall = { low: Math.min(Math.max(perCall.low, 1), cap), high: Math.min(Math.max(perCall.high, 1), cap) };
  return {
    attemptsPerCall,
    minutesPerAttempt,
    basis: "agent_history",
    basedOnAttempts: attempts,
    note:
      `From this agent's last ${plural(history.length, "batch", "batches")} (${plural(attempts, "finished attempt", "finished attempts")}): ` +
      `${rangeText(attemptsPerCall)} attempts per call and ${rangeText(minutesPerAttempt)} billed minutes per attempt (each attempt rounded up to whole minutes; ` +
      "attempts that never connected bill none).",
  };
}

/** The estimate for `calls` calls: each end of the minutes' range is the product of the same ends (low rounded down, high up). */
export function estimateFor(calls: number, rates: EstimateRates): Estimate {
  const low = calls * rates.attemptsPerCall.low * rates.minutesPerAttempt.low;
  const high = calls * rates.attemptsPerCall.high * rates.minutesPerAttempt.high;
  // The tolerance keeps a product such as 3 × 0.1 (0.30000000000000004) from rounding up a whole minute.
  const { attemptsPerCall, minutesPerAttempt, basis, basedOnAttempts, note } = rates;
  const minutes = { low: Math.max(0, Math.floor(low + 1e-9)), high: Math.max(0, Math.ceil(high - 1e-9)) };
  return { calls, attemptsPerCall, minutesPerAttempt, minutes, basis, basedOnAttempts, note };
}
