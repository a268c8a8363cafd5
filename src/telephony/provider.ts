/** What a provider needs to place one attempt of one call. */
export type DialRequest = {
  callId: string;
  batchId: string;
  seq: number;
  attempt: number;
  to: string;
  from: string | null;
  agentId: string;
  voiceUrl: string | null;
  dialUrl: string | null;
  /** The call's custom CSV columns plus first_name, last_name and email when the file has them, verbatim. */
  variables: Record<string, string>;
  /** The agent asked for its calls to be recorded (only Twilio records). */
  record: boolean;
};

/**
 * - `placed`: the provider accepted the call.
 * - `rate_limited`: refused before anything was placed (HTTP 429): safe to try again later.
 * - `rejected`: refused for good (bad number, bad credentials): the attempt failed.
 * - `unknown`: timeout or 5xx on create: the call may exist, so it is never re-sent;
 *   its status webhook or the lease expiry settles the attempt.
 * - `unreachable`: no response at all (connection refused, DNS, TLS): the request
 *   almost certainly never arrived, but a reset after sending looks the same, so it
 *   is never re-sent either. It keeps only the claim's short lease: unless a status
 *   report confirms it meanwhile, it ends within DIAL_CONFIRM_MS and frees its slot.
 */
export type DialResult =
  | { kind: "placed"; providerCallId: string }
  | { kind: "rate_limited"; retryAfterSec: number; error: string }
  | { kind: "rejected"; error: string }
  | { kind: "unknown"; error: string }
  | { kind: "unreachable"; error: string };

/** One claimed attempt whose dial was never confirmed: what the provider can be asked about it. */
export type LostDial = { batchId: string; seq: number; attempt: number; to: string; from: string | null; claimedAt: number };

/**
 * What became of a lost dial:
 * - `placed`: the provider has the call; its status reports settle the attempt.
 * - `not_placed`: the provider says for certain it never got the call: it can be dialled again as the same attempt.
 * - `unknown`: nobody can say: the attempt must end without a second dial.
 */
export type DialFate = { kind: "placed"; providerCallId: string } | { kind: "not_placed" } | { kind: "unknown"; reason: string };

/** One provider's adapter: how an attempt is dialled, and how a dial lost between its claim and the provider's answer is looked up. */
export interface CallProvider {
  dial(req: DialRequest): Promise<DialResult>;
  /** Asks the provider whether it got a dial whose answer was never recorded; each adapter says how far its provider can be believed. */
  findLostDial(dial: LostDial): Promise<DialFate>;
}

/** What the provider said about a claimed attempt. */
export type PlacedReport =
  | { seq: number; attempt: number; kind: "placed"; providerCallId: string }
  | { seq: number; attempt: number; kind: "unknown"; error: string }
  /** No response at all (connection refused, DNS, TLS): recorded, not confirmed; settled within the claim's short lease. */
  | { seq: number; attempt: number; kind: "unreachable"; error: string }
  | { seq: number; attempt: number; kind: "rejected"; error: string; at: number }
  | { seq: number; attempt: number; kind: "rate_limited" }
  /** The claim reached the consumer after its dial deadline: nothing was dialled. */
  | { seq: number; attempt: number; kind: "too_late" }
  /** The pre-dial check said not to call (or failed, under preDialOnError skip): nothing was dialled; the call is cancelled with `error`. */
  | { seq: number; attempt: number; kind: "skipped"; error: string; at: number };

/** What the provider answered a dial, as the batch's object records it. */
export function placedReport(seq: number, attempt: number, result: DialResult): PlacedReport {
  switch (result.kind) {
    case "placed":
      return { seq, attempt, kind: "placed", providerCallId: result.providerCallId };
    case "unknown":
      return { seq, attempt, kind: "unknown", error: result.error };
    case "unreachable":
      // No call.started: nothing answered, so almost certainly nothing rings.
      return { seq, attempt, kind: "unreachable", error: result.error };
    case "rate_limited":
      return { seq, attempt, kind: "rate_limited" };
    case "rejected":
      return { seq, attempt, kind: "rejected", error: result.error, at: Date.now() };
  }
}
