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
