import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

/**
 * How an agent's pool of numbers is used. `local`: a number with the
 * recipient's area code (NANP: the 3 digits after +1), else one in the
 * recipient's country, else any; `round_robin`: any. Among equals, the
 * number that started a call least recently goes first. `perNumber` limits
 * every number of the pool across all the workspace's batches.
 */
export const CallerIdSchema = z
  .strictObject({
    strategy: z.enum(["local", "round_robin"]).default("round_robin").describe("local: the recipient's area code, else country, else any; round_robin: any"),
    perNumber: z
      .strictObject({
        callsPerSecond: z.number().int().min(1).max(100).default(1).describe("starts one number may make in any one second (default 1)"),
        maxCallsPerDay: z.number().int().min(1).max(100_000).optional().describe("starts one number may make in any 24 hours, counted in whole hours"),
      })
      .default({ callsPerSecond: 1 }),
  })
  .openapi("CallerId");
export type CallerId = z.infer<typeof CallerIdSchema>;

/** An agent's pool as the limiter uses it: its numbers in order, and the rules (null: round-robin, no per-number limit). */
export type Pool = { agentId: string; numbers: { e164: string; enabled: boolean }[]; callerId: CallerId | null };

/** A number's recent starts, as the limiter keeps them: the last second's start times and the 24 hours' count. */
export type NumberLoad = { recent: number[]; lastAt: number; day: number };

export type NumberChoice =
  | { kind: "number"; e164: string }
  | { kind: "wait"; waitMs: number }
  /** No number can start a call before `until`: every number is resting, or every one has used its day. */
  | { kind: "hold"; until: number; reason: "no_enabled_number" | "number_daily_limit" };

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;

/** NANP area code (+1 and 3 digits), else null. */
export function areaCodeOf(e164: string): string | null {
  return e164.startsWith("+1") && e164.length === 12 ? e164.slice(2, 5) : null;
}

/**
 * The number the next start to `to` uses, or how long it must wait. The
 * tiers of `local` are tried in order, and a tier is left only when its
 * numbers are out of their day (a number busy for a second is waited for:
 * a local caller ID is worth a second). `countryOf` is the phone module's.
 */
export function chooseNumber(
  pool: Pool,
  to: string,
  load: (e164: string) => NumberLoad,
  now: number,
  countryOf: (e164: string) => string | null,
): NumberChoice {
  const enabled = pool.numbers.filter((n) => n.enabled).map((n) => n.e164);
  if (enabled.length === 0) return { kind: "hold", until: now + 60_000, reason: "no_enabled_number" };
  const perSecond = pool.callerId?.perNumber.callsPerSecond ?? Infinity;
  const perDay = pool.callerId?.perNumber.maxCallsPerDay ?? Infinity;
  for (const tier of tiers(pool, enabled, to, countryOf)) {
    const loads = tier.map((e164) => ({ e164, ...load(e164) })).filter((n) => n.day < perDay);
    if (loads.length === 0) continue;
    const free = loads.filter((n) => n.recent.filter((t) => t > now - SECOND_MS).length < perSecond);
    if (free.length === 0) {
      const soonest = Math.min(...loads.map((n) => oldestInSecond(n.recent, now, perSecond)));
      return { kind: "wait", waitMs: Math.max(1, soonest + SECOND_MS - now + 1) };
    }
    let best = free[0]!;
    for (const n of free) if (n.lastAt < best.lastAt) best = n;
    return { kind: "number", e164: best.e164 };
  }
  // Every number has used its day: look again when the oldest counted hour leaves the window.
  return { kind: "hold", until: (Math.floor(now / HOUR_MS) + 1) * HOUR_MS, reason: "number_daily_limit" };
}

/** The start that must leave the last second before one more fits under `perSecond`. */
function oldestInSecond(recent: number[], now: number, perSecond: number): number {
  const inSecond = recent.filter((t) => t > now - SECOND_MS).sort((a, b) => a - b);
  return inSecond[inSecond.length - perSecond] ?? now;
}

function tiers(pool: Pool, enabled: string[], to: string, countryOf: (e164: string) => string | null): string[][] {
  if (pool.callerId?.strategy !== "local") return [enabled];
  const area = areaCodeOf(to);
  const country = countryOf(to);
  const local = area === null ? [] : enabled.filter((n) => areaCodeOf(n) === area);
  const national = country === null ? [] : enabled.filter((n) => !local.includes(n) && countryOf(n) === country);
  const rest = enabled.filter((n) => !local.includes(n) && !national.includes(n));
  return [local, national, rest].filter((t) => t.length > 0);
}
