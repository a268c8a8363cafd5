import * as z from "zod";
import type { CallEvent } from "../domain/call-event";

/** Far above any real attempt count (10 per pass), far below anything that could overflow a counter. */
export const MAX_ATTEMPT = 100_000;

/** A call id as a provider echoes it back: ours are far shorter, so anything longer is not one. */
export const ReportedCallId = z.string().max(100);

/** The call a verified status report is about: the id it was sent for, and what that id names. */
export type ReportedCall = { callId: string; batchId: string; seq: number };

/**
 * A provider's status report in the engine's vocabulary, or why it cannot
 * be read (a sentence for the 400 the provider gets back).
 */
export type ParsedReport = { ok: true; event: CallEvent } | { ok: false; problem: string };

type FinalFields = Omit<Extract<CallEvent, { kind: "final" }>, "kind" | "batchId" | "seq" | "attempt">;

/** A report that the call is ringing or in progress: it only confirms the dial. */
export function progressReport(call: ReportedCall, attempt: number, providerCallId: string | undefined): ParsedReport {
  return { ok: true, event: { kind: "progress", batchId: call.batchId, seq: call.seq, attempt, providerCallId } };
}

/** A report that the attempt ended, with how. */
export function finalReport(call: ReportedCall, attempt: number, end: FinalFields): ParsedReport {
  return { ok: true, event: { kind: "final", batchId: call.batchId, seq: call.seq, attempt, ...end } };
}
