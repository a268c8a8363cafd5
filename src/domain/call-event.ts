import type { Outcome } from "./vocabulary";

/**
 * A provider's report about one attempt. Real status webhooks, the
 * simulated carrier and lease expiry all end up in the batch's object,
 * so they share one state machine.
 */
export type CallEvent =
  | { kind: "progress"; batchId: string; seq: number; attempt: number; providerCallId?: string }
  | {
      kind: "final";
      batchId: string;
      seq: number;
      attempt: number;
      outcome: Outcome;
      at: number;
      durationSec?: number | null;
      error?: string | null;
      providerCallId?: string;
    };

/** What became of a report: news applied, a duplicate or late one ignored, or no such call. */
export type ApplyResult = "applied" | "ignored" | "unknown_call";
