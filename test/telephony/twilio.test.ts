import { describe, expect, it } from "vitest";
import { parseTwilioReport, twilioCallsUrl, twilioSignedUrl, twilioStatusUrl } from "../../src/telephony/twilio";

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
