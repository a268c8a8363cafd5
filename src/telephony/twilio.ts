import type { CallProvider, DialRequest, DialResult } from "./provider";

export type TwilioConfig = { accountSid: string; authToken: string; apiBaseUrl: string; publicBaseUrl: string; callLeaseMs: number; timeoutMs?: number };

/** The StatusCallback URL for one attempt; the webhook route verifies signatures against exactly this. */
export function twilioStatusUrl(publicBaseUrl: string, callId: string, attempt: number): string {
  return `${publicBaseUrl.replace(/\/$/, "")}/v1/webhooks/twilio/status?callId=${encodeURIComponent(callId)}&attempt=${attempt}`;
}

/** Twilio's Calls API (or any API that speaks it at apiBaseUrl). */
export class TwilioProvider implements CallProvider {
  constructor(private readonly cfg: TwilioConfig) {}

  async dial(req: DialRequest): Promise<DialResult> {
    if (!req.from || !req.voiceUrl) return { kind: "rejected", error: "the agent has no fromNumber or voiceUrl" };
    const form = new URLSearchParams({
      To: req.to,
      From: req.from,
      Url: req.voiceUrl,
      StatusCallback: twilioStatusUrl(this.cfg.publicBaseUrl, req.callId, req.attempt),
      StatusCallbackMethod: "POST",
      MachineDetection: "Enable",
      // A call may not outlive its lease: the slot would be freed under it.
      TimeLimit: String(Math.max(60, Math.floor(this.cfg.callLeaseMs / 1000) - 60)),
    });
    for (const ev of ["initiated", "ringing", "answered", "completed"]) form.append("StatusCallbackEvent", ev);
    const url = `${this.cfg.apiBaseUrl.replace(/\/$/, "")}/2010-04-01/Accounts/${encodeURIComponent(this.cfg.accountSid)}/Calls.json`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${this.cfg.accountSid}:${this.cfg.authToken}`)}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.cfg.timeoutMs ?? 15_000),
      });
    } catch (err) {
      return { kind: "unknown", error: `Twilio did not answer the create request (${(err as Error).name}); the call may exist` };
    }
    const text = await res.text();
    let body: { sid?: string; message?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // non-JSON error pages are reported by status below
    }
    if (res.ok && body.sid) return { kind: "placed", providerCallId: body.sid };
    if (res.status === 429) {
      const retryAfter = Number(res.headers.get("retry-after"));
      return { kind: "rate_limited", retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0, error: "Twilio rate limit (429)" };
    }
    if (res.status >= 500 || res.ok) return { kind: "unknown", error: `Twilio answered ${res.status} to the create request; the call may exist` };
    return { kind: "rejected", error: `Twilio refused the call (${res.status}): ${body.message ?? text.slice(0, 200)}` };
  }
}

export type TwilioStatus = { kind: "progress" } | { kind: "final"; outcome: "answered" | "voicemail" | "no_answer" | "busy" | "failed" | "canceled" };

/** CallStatus (+ AnsweredBy from machine detection) → our vocabulary. */
export function mapTwilioStatus(callStatus: string, answeredBy: string | null): TwilioStatus | null {
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
