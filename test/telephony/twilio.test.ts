import { afterEach, describe, expect, it, vi } from "vitest";
import type { LostDial } from "../../src/telephony/provider";
import { parseTwilioReport, TwilioProvider, twilioCallsUrl, twilioSignedUrl, twilioStatusUrl } from "../../src/telephony/twilio";

afterEach(() => vi.restoreAllMocks());

const CALL = { callId: "call_abc_3", batchId: "batch_abc", seq: 3 };
const NOW = 1_700_000_000_000;
const LEASE_SEC = 3600;

function report(fields: Record<string, string>, attempt = 2) {
  return parseTwilioReport(Object.entries({ AccountSid: "ACtest", CallSid: "CA1", ...fields }), CALL, attempt, LEASE_SEC, NOW);
}

describe("parseTwilioReport", () => {
  it("reads queued, initiated, ringing and in-progress as progress of the URL's attempt, with the CallSid", () => {
    for (const CallStatus of ["queued", "initiated", "ringing", "in-progress"]) {
      expect(report({ CallStatus })).toEqual({ ok: true, event: { kind: "progress", batchId: "batch_abc", seq: 3, attempt: 2, providerCallId: "CA1" } });
    }
  });

  it("maps each final CallStatus to our outcome, and machine or fax detection to voicemail", () => {
    const outcome = (fields: Record<string, string>) => {
      const r = report(fields);
      return r.ok && r.event.kind === "final" ? r.event.outcome : null;
    };
    expect(outcome({ CallStatus: "completed" })).toBe("answered");
    expect(outcome({ CallStatus: "completed", AnsweredBy: "human" })).toBe("answered");
    expect(outcome({ CallStatus: "completed", AnsweredBy: "machine_end_beep" })).toBe("voicemail");
    expect(outcome({ CallStatus: "completed", AnsweredBy: "fax" })).toBe("voicemail");
    expect(outcome({ CallStatus: "busy" })).toBe("busy");
    expect(outcome({ CallStatus: "no-answer" })).toBe("no_answer");
    expect(outcome({ CallStatus: "failed" })).toBe("failed");
    expect(outcome({ CallStatus: "canceled" })).toBe("canceled");
  });

  it("makes a final event of the attempt, at the given time, with Twilio's duration", () => {
    expect(report({ CallStatus: "completed", CallDuration: "42" })).toEqual({
      ok: true,
      event: { kind: "final", batchId: "batch_abc", seq: 3, attempt: 2, outcome: "answered", at: NOW, durationSec: 42, error: null, providerCallId: "CA1" },
    });
  });

  it("clamps CallDuration to 0 … the lease and leaves it out when it is not a number", () => {
    const duration = (CallDuration?: string) => {
      const r = report(CallDuration === undefined ? { CallStatus: "completed" } : { CallStatus: "completed", CallDuration });
      return r.ok && r.event.kind === "final" ? r.event.durationSec : "not final";
    };
    expect(duration("99999999")).toBe(LEASE_SEC);
    expect(duration("-30")).toBe(0);
    expect(duration("soon")).toBeNull();
    expect(duration()).toBeNull();
  });

  it("says a failed call failed, with Twilio's error code when it gave one (shortened)", () => {
    const error = (fields: Record<string, string>) => {
      const r = report(fields);
      return r.ok && r.event.kind === "final" ? r.event.error : "not final";
    };
    expect(error({ CallStatus: "failed" })).toBe("Twilio reported the call failed");
    expect(error({ CallStatus: "failed", ErrorCode: "32009" })).toBe("Twilio reported the call failed (error 32009)");
    expect(error({ CallStatus: "failed", ErrorCode: "9".repeat(50) })).toBe(`Twilio reported the call failed (error ${"9".repeat(20)})`);
    expect(error({ CallStatus: "busy", ErrorCode: "32009" })).toBeNull();
  });

  it("keeps at most 200 characters of a CallSid", () => {
    const r = report({ CallStatus: "ringing", CallSid: "C".repeat(500) });
    expect(r.ok && r.event.providerCallId).toBe("C".repeat(200));
  });

  it("refuses an unknown or missing CallStatus with a sentence quoting (at most 40 characters of) it", () => {
    expect(report({ CallStatus: "exploded" })).toEqual({ ok: false, problem: 'Unknown CallStatus "exploded".' });
    expect(report({})).toEqual({ ok: false, problem: 'Unknown CallStatus "".' });
    expect(report({ CallStatus: "x".repeat(100) })).toEqual({ ok: false, problem: `Unknown CallStatus "${"x".repeat(40)}".` });
  });
});

describe("Twilio URLs", () => {
  it("gives Twilio a StatusCallback on the public base URL, with or without its trailing slash", () => {
    const url = "https://calls.example.test/v1/webhooks/twilio/status?callId=call_abc_3&attempt=2";
    expect(twilioStatusUrl("https://calls.example.test", "call_abc_3", 2)).toBe(url);
    expect(twilioStatusUrl("https://calls.example.test/", "call_abc_3", 2)).toBe(url);
  });

  it("verifies a callback against the public URL Twilio was given, whatever host it reached", () => {
    const reached = "http://internal.worker:8787/v1/webhooks/twilio/status?callId=call_abc_3&attempt=2";
    expect(twilioSignedUrl("https://calls.example.test/", reached)).toBe("https://calls.example.test/v1/webhooks/twilio/status?callId=call_abc_3&attempt=2");
    expect(twilioSignedUrl("", reached)).toBe(reached);
    expect(twilioSignedUrl(undefined, reached)).toBe(reached);
  });

  it("names the account's Calls resource, the account id encoded", () => {
    expect(twilioCallsUrl("https://api.twilio.com/", "AC 1")).toBe("https://api.twilio.com/2010-04-01/Accounts/AC%201/Calls.json");
  });
});

describe("TwilioProvider.findLostDial", () => {
  const CFG = {
    accountSid: "ACtest",
    authToken: "token",
    apiBaseUrl: "https://twilio.example.test",
    publicBaseUrl: "https://calls.example.test",
    callLeaseMs: 3_600_000,
  };
  const CLAIMED = Date.parse("2024-03-10T00:00:02Z");
  const DIAL: LostDial = { batchId: "batch_abc", seq: 3, attempt: 1, to: "+12125551001", from: "+12125550000", claimedAt: CLAIMED };
  /** Answers the lookup with `body` (or throws `body` when it is an Error), recording the request. */
  const answering = (body: unknown, status = 200) => {
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      if (body instanceof Error) throw body;
      return new Response(JSON.stringify(body), { status });
    });
    return seen;
  };

  it("lists the account's calls to the number from the caller since the claim's day (less the skew), and keeps one created since the claim", async () => {
    const seen = answering({
      calls: [
        { sid: "CAold", date_created: "Sat, 09 Mar 2024 23:00:00 +0000" },
        { sid: "CA9", date_created: "Sun, 10 Mar 2024 00:00:01 +0000" },
      ],
    });
    expect(await new TwilioProvider(CFG).findLostDial(DIAL)).toEqual({ kind: "placed", providerCallId: "CA9" });
    expect(seen).toHaveLength(1);
    const url = new URL(seen[0]!.url);
    expect(`${url.origin}${url.pathname}`).toBe(twilioCallsUrl(CFG.apiBaseUrl, "ACtest"));
    expect(Object.fromEntries(url.searchParams)).toEqual({ To: DIAL.to, From: DIAL.from, "StartTime>": "2024-03-09", PageSize: "50" });
    expect(seen[0]!.headers.get("authorization")).toBe(`Basic ${btoa("ACtest:token")}`);
    expect(seen[0]!.redirect).toBe("manual");
  });

  it("leaves the fate unknown when Twilio has no such call, answers an error, or cannot be reached", async () => {
    answering({ calls: [{ sid: "CAold", date_created: "Sat, 09 Mar 2024 23:00:00 +0000" }] });
    expect(await new TwilioProvider(CFG).findLostDial({ ...DIAL, from: null })).toEqual({
      kind: "unknown",
      reason: "Twilio has no call to this number since the claim, and its list may lag",
    });
    vi.restoreAllMocks();
    answering({ message: "nope" }, 500);
    expect(await new TwilioProvider(CFG).findLostDial(DIAL)).toEqual({ kind: "unknown", reason: "Twilio answered 500 to the call lookup" });
    vi.restoreAllMocks();
    answering(Object.assign(new Error("Network connection lost."), { name: "TypeError" }));
    expect(await new TwilioProvider(CFG).findLostDial(DIAL)).toEqual({ kind: "unknown", reason: "the Twilio call lookup failed (TypeError)" });
  });

  it("asks nothing without credentials", async () => {
    const seen = answering({ calls: [] });
    expect(await new TwilioProvider({ ...CFG, authToken: "" }).findLostDial(DIAL)).toEqual({
      kind: "unknown",
      reason: "Twilio credentials are not configured",
    });
    expect(seen).toHaveLength(0);
  });
});
