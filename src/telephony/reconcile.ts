import { DIAL_TIMEOUT_MS } from "../engine-config";
import type { Provider } from "../domain/vocabulary";
import { fetchFailure, fetchNoRedirect, redirectRefusal } from "./http";
import { twilioApiBaseUrl, twilioAuthorization, twilioCallsUrl } from "./twilio";

/** One claimed attempt whose dial was never confirmed: what the provider can be asked about it. */
export type LostDial = { batchId: string; seq: number; attempt: number; to: string; from: string | null; claimedAt: number };

/**
 * What became of a lost dial:
 * - `placed`: the provider has the call; its status reports settle the attempt.
 * - `not_placed`: the provider says for certain it never got the call: it can be dialled again as the same attempt.
 * - `unknown`: nobody can say: the attempt must end without a second dial.
 */
export type DialFate = { kind: "placed"; providerCallId: string } | { kind: "not_placed" } | { kind: "unknown"; reason: string };

/** A Twilio call created this long before the claim cannot be ours (clock skew between us and Twilio). */
const TWILIO_SKEW_MS = 5_000;

/**
 * Asks the provider about a dial lost between its claim and the
 * provider's answer. The simulated carrier keeps a call log per batch and
 * answers for certain. Twilio is searched for a call to the same number
 * from the same caller created since the claim; not finding one is not
 * proof (its list may lag), so it stays unknown. A webhook agent's remote
 * end cannot be asked: had it got the dial, its status report would have
 * confirmed it.
 */
export async function findLostDial(env: Env, provider: Provider, dial: LostDial): Promise<DialFate> {
  switch (provider) {
    case "simulated": {
      const id = await env.SIM_CARRIER.getByName(dial.batchId).placement(dial.seq, dial.attempt);
      return id ? { kind: "placed", providerCallId: id } : { kind: "not_placed" };
    }
    case "twilio":
      return findTwilioCall(env, dial);
    case "webhook":
      return { kind: "unknown", reason: "the agent's dial endpoint never confirmed it and cannot be asked" };
  }
}

type TwilioCallList = { calls?: { sid?: string; date_created?: string | null; from?: string }[] };

async function findTwilioCall(env: Env, dial: LostDial): Promise<DialFate> {
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN) return { kind: "unknown", reason: "Twilio credentials are not configured" };
  const day = new Date(dial.claimedAt - TWILIO_SKEW_MS).toISOString().slice(0, 10);
  const query = new URLSearchParams({ To: dial.to, "StartTime>": day, PageSize: "50" });
  if (dial.from) query.set("From", dial.from);
  const url = `${twilioCallsUrl(twilioApiBaseUrl(env), env.TWILIO_ACCOUNT_SID)}?${query}`;
  try {
    const res = await fetchNoRedirect(url, {
      headers: { authorization: twilioAuthorization(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN) },
      signal: AbortSignal.timeout(DIAL_TIMEOUT_MS),
    });
    const redirect = redirectRefusal(res, url);
    if (redirect) {
      await res.body?.cancel();
      return { kind: "unknown", reason: `the Twilio call lookup ${redirect}` };
    }
    if (!res.ok) return { kind: "unknown", reason: `Twilio answered ${res.status} to the call lookup` };
    const body = (await res.json()) as TwilioCallList;
    const ours = (body.calls ?? []).find((c) => c.sid && c.date_created && Date.parse(c.date_created) >= dial.claimedAt - TWILIO_SKEW_MS);
    return ours?.sid
      ? { kind: "placed", providerCallId: ours.sid }
      : { kind: "unknown", reason: "Twilio has no call to this number since the claim, and its list may lag" };
  } catch (err) {
    return { kind: "unknown", reason: `the Twilio call lookup failed (${fetchFailure(err).name})` };
  }
}
