import { DIAL_TIMEOUT_MS } from "../engine-config";
import type { Outcome } from "../domain/vocabulary";
import { fetchFailure, fetchNoRedirect, joinUrl, quotedUrl, redirectRefusal, retryAfterSec } from "./http";
import type { CallProvider, DialFate, DialRequest, DialResult, LostDial } from "./provider";
import { finalReport, type ParsedReport, progressReport, type ReportedCall } from "./status-report";

export type TwilioConfig = { accountSid: string; authToken: string; apiBaseUrl: string; publicBaseUrl: string; callLeaseMs: number };

/** Where Twilio's API is: api.twilio.com unless TWILIO_API_BASE_URL points elsewhere (tests, local dev). */
export function twilioApiBaseUrl(env: Env): string {
  return env.TWILIO_API_BASE_URL || "https://api.twilio.com";
}

/** The StatusCallback URL for one attempt; the webhook route verifies signatures against exactly this. */
export function twilioStatusUrl(publicBaseUrl: string, callId: string, attempt: number): string {
  return joinUrl(publicBaseUrl, `/v1/webhooks/twilio/status?callId=${encodeURIComponent(callId)}&attempt=${attempt}`);
}

/** The RecordingStatusCallback URL for one attempt: like the StatusCallback, it names the call and the attempt it is about. */
export function twilioRecordingUrl(publicBaseUrl: string, callId: string, attempt: number): string {
  return joinUrl(publicBaseUrl, `/v1/webhooks/twilio/recording?callId=${encodeURIComponent(callId)}&attempt=${attempt}`);
}

/**
 * The agent's voiceUrl with `callId` and `attempt` added to its query (any
 * query it had is kept): the agent learns which call Twilio connected it to
 * and reads the rest with GET /v1/agent/calls/{callId}. Null when it is not
 * a URL.
 */
export function twilioVoiceUrl(voiceUrl: string, callId: string, attempt: number): string | null {
  if (!URL.canParse(voiceUrl)) return null;
  const url = new URL(voiceUrl);
  url.searchParams.set("callId", callId);
  url.searchParams.set("attempt", String(attempt));
  return url.toString();
}

/** The URL Twilio signed a StatusCallback for: the public one it was given, whatever host the request reached. */
export function twilioSignedUrl(publicBaseUrl: string | undefined, requestUrl: string): string {
  const url = new URL(requestUrl);
  return joinUrl(publicBaseUrl || url.origin, `${url.pathname}${url.search}`);
}

/** The account's Calls resource: created by a dial, listed by the lost-dial lookup. */
export function twilioCallsUrl(apiBaseUrl: string, accountSid: string): string {
  return joinUrl(apiBaseUrl, `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Calls.json`);
}

export function twilioAuthorization(accountSid: string, authToken: string): string {
  return `Basic ${btoa(`${accountSid}:${authToken}`)}`;
}

/** A Twilio call created this long before the claim cannot be ours (clock skew between us and Twilio). */
const TWILIO_SKEW_MS = 5_000;

type TwilioCallList = { calls?: { sid?: string; date_created?: string | null; from?: string }[] };

/** Twilio's Calls API (or any API that speaks it at apiBaseUrl). */
export class TwilioProvider implements CallProvider {
  constructor(private readonly cfg: TwilioConfig) {}

  async dial(req: DialRequest): Promise<DialResult> {
    if (!req.from || !req.voiceUrl) return { kind: "rejected", error: "the agent has no fromNumber or voiceUrl" };
    const voiceUrl = twilioVoiceUrl(req.voiceUrl, req.callId, req.attempt);
    if (!voiceUrl) return { kind: "rejected", error: "the agent's voiceUrl is not a valid URL" };
    const form = new URLSearchParams({
      To: req.to,
      From: req.from,
      Url: voiceUrl,
      StatusCallback: twilioStatusUrl(this.cfg.publicBaseUrl, req.callId, req.attempt),
      StatusCallbackMethod: "POST",
      MachineDetection: "Enable",
      // A call may not outlive its lease: the slot would be freed under it.
      TimeLimit: String(Math.max(60, Math.floor(this.cfg.callLeaseMs / 1000) - 60)),
    });
    for (const ev of ["initiated", "ringing", "answered", "completed"]) form.append("StatusCallbackEvent", ev);
    if (req.record) {
      form.set("Record", "true");
      form.set("RecordingStatusCallback", twilioRecordingUrl(this.cfg.publicBaseUrl, req.callId, req.attempt));
      form.set("RecordingStatusCallbackEvent", "completed");
      form.set("RecordingStatusCallbackMethod", "POST");
    }
    const url = twilioCallsUrl(this.cfg.apiBaseUrl, this.cfg.accountSid);
    let res: Response;
    try {
      res = await fetchNoRedirect(url, {
        method: "POST",
        headers: {
          authorization: twilioAuthorization(this.cfg.accountSid, this.cfg.authToken),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: form.toString(),
        signal: AbortSignal.timeout(DIAL_TIMEOUT_MS),
      });
    } catch (err) {
      const failure = fetchFailure(err);
      if (failure.timedOut) return { kind: "unknown", error: `Twilio did not answer the create request (${failure.name}); the call may exist` };
      return { kind: "unreachable", error: `could not connect to Twilio at ${quotedUrl(url)}: ${failure.message}` };
    }
    const redirect = redirectRefusal(res, url);
    if (redirect) {
      await res.body?.cancel();
      return { kind: "rejected", error: `Twilio ${redirect}` };
    }
    const text = await res.text();
    let body: { sid?: string; message?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // non-JSON error pages are reported by status below
    }
    if (res.ok && body.sid) return { kind: "placed", providerCallId: body.sid };
    if (res.status === 429) return { kind: "rate_limited", retryAfterSec: retryAfterSec(res), error: "Twilio rate limit (429)" };
    if (res.status >= 500 || res.ok) return { kind: "unknown", error: `Twilio answered ${res.status} to the create request; the call may exist` };
    return { kind: "rejected", error: `Twilio refused the call (${res.status}): ${body.message ?? text.slice(0, 200)}` };
  }

  /**
   * Searches Twilio for a call to the same number from the same caller
   * created since the claim. Not finding one is not proof (its list may
   * lag), so the fate stays unknown.
   */
  async findLostDial(dial: LostDial): Promise<DialFate> {
    const { accountSid, authToken } = this.cfg;
    if (!accountSid || !authToken) return { kind: "unknown", reason: "Twilio credentials are not configured" };
    const day = new Date(dial.claimedAt - TWILIO_SKEW_MS).toISOString().slice(0, 10);
    const query = new URLSearchParams({ To: dial.to, "StartTime>": day, PageSize: "50" });
    if (dial.from) query.set("From", dial.from);
    const url = `${twilioCallsUrl(this.cfg.apiBaseUrl, accountSid)}?${query}`;
    try {
      const res = await fetchNoRedirect(url, {
        headers: { authorization: twilioAuthorization(accountSid, authToken) },
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
}

type TwilioStatus = { kind: "progress" } | { kind: "final"; outcome: Outcome };

/** CallStatus (+ AnsweredBy from machine detection) → our vocabulary. */
function mapTwilioStatus(callStatus: string, answeredBy: string | null): TwilioStatus | null {
  switch (callStatus) {
    case "queued":
    case "initiated":
    case "ringing":
    case "in-progress":
      return { kind: "progress" };
    case "completed":
      return { kind: "final", outcome: answeredBy && /^(machine|fax)/.test(answeredBy) ? "voicemail" : "answered" };
    case "busy":
      return { kind: "final", outcome: "busy" };
    case "no-answer":
      return { kind: "final", outcome: "no_answer" };
    case "failed":
      return { kind: "final", outcome: "failed" };
    case "canceled":
      return { kind: "final", outcome: "canceled" };
    default:
      return null;
  }
}

/**
 * A verified StatusCallback's form fields as an event for attempt
 * `attempt` of `call` (both from the callback URL). `CallDuration` is
 * clamped to 0 … `maxDurationSec` (the call lease): Twilio's own figure is
 * not worth losing a call's end over.
 */
export function parseTwilioReport(params: [string, string][], call: ReportedCall, attempt: number, maxDurationSec: number, now: number): ParsedReport {
  const p = new Map(params);
  const callStatus = p.get("CallStatus") ?? "";
  const mapped = mapTwilioStatus(callStatus, p.get("AnsweredBy") ?? null);
  if (!mapped) return { ok: false, problem: `Unknown CallStatus "${callStatus.slice(0, 40)}".` };
  const providerCallId = p.get("CallSid")?.slice(0, 200);
  if (mapped.kind === "progress") return progressReport(call, attempt, providerCallId);
  const duration = Number(p.get("CallDuration"));
  const errorCode = p.get("ErrorCode");
  return finalReport(call, attempt, {
    outcome: mapped.outcome,
    at: now,
    durationSec: Number.isFinite(duration) ? Math.min(Math.max(duration, 0), maxDurationSec) : null,
    error: mapped.outcome === "failed" ? `Twilio reported the call failed${errorCode ? ` (error ${errorCode.slice(0, 20)})` : ""}` : null,
    providerCallId,
  });
}

/** What a verified RecordingStatusCallback says: a finished recording's URL, nothing yet, or a form we cannot read. */
export type TwilioRecording = { kind: "recording"; recordingUrl: string } | { kind: "not_completed" } | { kind: "invalid"; problem: string };

/** Longest RecordingUrl kept (Twilio's are about 130 characters). */
const MAX_RECORDING_URL_CHARS = 2048;

/**
 * A verified RecordingStatusCallback's form fields. Only a `completed`
 * recording has a URL worth keeping (we ask for that event alone, but
 * Twilio also reports `absent` and `failed` ones); its RecordingUrl must be
 * an https URL.
 */
export function parseTwilioRecording(params: [string, string][]): TwilioRecording {
  const p = new Map(params);
  if (p.get("RecordingStatus") !== "completed") return { kind: "not_completed" };
  const url = p.get("RecordingUrl") ?? "";
  if (url.length > MAX_RECORDING_URL_CHARS || !URL.canParse(url) || new URL(url).protocol !== "https:") {
    return { kind: "invalid", problem: `RecordingUrl must be an https URL of at most ${MAX_RECORDING_URL_CHARS} characters.` };
  }
  return { kind: "recording", recordingUrl: url };
}
