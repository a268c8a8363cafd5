import { RETRYABLE_OUTCOMES, type Outcome } from "./vocabulary";
import type { SmartCallbackConfig } from "./batch-options";

/** Someone or something picked up: a person, or voicemail. The call is done and has a duration. */
export function connected(outcome: Outcome): boolean {
  return outcome === "answered" || outcome === "voicemail";
}

/** The call's status once an attempt with this outcome is its last. */
export function finalStatus(outcome: Outcome): "completed" | "failed" | "cancelled" {
  if (connected(outcome)) return "completed";
  if (outcome === "canceled") return "cancelled";
  return "failed";
}

/** Milliseconds of the gap after attempt `attemptInPass` (1-based): gaps[i] follows attempt i+1; the last gap repeats. */
export function gapMs(config: SmartCallbackConfig, attemptInPass: number): number {
  const gaps = config.gaps;
  const g = gaps[Math.min(attemptInPass - 1, gaps.length - 1)];
  if (!g) return 0;
  return ((g.days * 24 + g.hours) * 60 + g.minutes) * 60_000;
}

export type NextStep = { kind: "final"; status: "completed" | "failed" | "cancelled" } | { kind: "callback"; dueAt: number };

/**
 * What follows an attempt: another attempt after the configured gap when
 * the outcome is retryable and attempts remain, otherwise a final status.
 * `timeScale` (> 1 only in development) divides the gap.
 */
export function nextStep(args: {
  config: SmartCallbackConfig | null;
  outcome: Outcome;
  attemptInPass: number;
  endedAt: number;
  batchRunning: boolean;
  timeScale: number;
}): NextStep {
  const { config, outcome, attemptInPass, endedAt } = args;
  const retryOn: readonly Outcome[] = config?.retryOn ?? RETRYABLE_OUTCOMES;
  const retry = args.batchRunning && config?.enabled && attemptInPass < config.maxAttempts && retryOn.includes(outcome);
  if (!retry) return { kind: "final", status: finalStatus(outcome) };
  return { kind: "callback", dueAt: endedAt + Math.max(1, Math.round(gapMs(config, attemptInPass) / args.timeScale)) };
}

/** DEV_TIME_SCALE applies in development only; anywhere else gaps are real. */
export function timeScale(env: { ENVIRONMENT?: string; DEV_TIME_SCALE?: string }): number {
  if (env.ENVIRONMENT !== "development") return 1;
  const n = Number(env.DEV_TIME_SCALE);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/**
 * Why an attempt did not connect, as a sentence a person can act on. The
 * provider's own words (e.g. a carrier error code) come first when it gave
 * some; `attempts` is how many attempts of this pass were made.
 */
export function failureReason(outcome: Outcome, attempts: number, providerError: string | null | undefined): string | null {
  const detail = providerError?.trim();
  const after = attempts > 1 ? ` after ${attempts} attempts` : "";
  switch (outcome) {
    case "answered":
    case "voicemail":
      return null;
    case "no_answer":
      return `No answer${after}.`;
    case "busy":
      return attempts > 1 ? `The line was busy on all ${attempts} attempts.` : "The line was busy.";
    case "canceled":
      return detail ? sentence(detail) : "The provider cancelled the call before it connected.";
    case "failed":
      return detail ? sentence(detail) : `The carrier reported the call failed${after}.`;
  }
}

/** A provider's fragment as a sentence: capital first letter, closing period. */
function sentence(text: string): string {
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
