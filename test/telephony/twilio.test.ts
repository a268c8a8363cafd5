import { afterEach, describe, expect, it, vi } from "vitest";
import type { DialRequest, LostDial } from "../../src/telephony/provider";
import {
  parseTwilioRecording,
  parseTwilioReport,
  TwilioProvider,
  twilioCallsUrl,
  twilioRecordingUrl,
  twilioSignedUrl,
  twilioStatusUrl,
  twilioVoiceUrl,
} from "../../src/telephony/twilio";

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

  it("gives Twilio a RecordingStatusCallback naming the call and the attempt, like the StatusCallback", () => {
    const url = "https://calls.example.test/v1/webhooks/twilio/recording?callId=call_abc_3&attempt=2";
    expect(twilioRecordingUrl("https://calls.example.test", "call_abc_3", 2)).toBe(url);
    expect(twilioRecordingUrl("https://calls.example.test/", "call_abc_3", 2)).toBe(url);
  });

  it("adds callId and attempt to the agent's voiceUrl, keeping the query it had", () => {
    expect(twilioVoiceUrl("https://agent.example.test/voice", "call_abc_3", 2)).toBe("https://agent.example.test/voice?callId=call_abc_3&attempt=2");
    const kept = new URL(twilioVoiceUrl("https://agent.example.test/voice?lang=en&token=a%2Fb#x", "call_abc_3", 1)!);
    expect(`${kept.origin}${kept.pathname}${kept.hash}`).toBe("https://agent.example.test/voice#x");
    expect([...kept.searchParams]).toEqual([
      ["lang", "en"],
      ["token", "a/b"],
      ["callId", "call_abc_3"],
      ["attempt", "1"],
    ]);
    // The service's own names win over a stale pair the agent left in its URL: Twilio must not connect the wrong call.
    expect(twilioVoiceUrl("https://agent.example.test/voice?callId=old&attempt=9", "call_abc_3", 2)).toBe(
      "https://agent.example.test/voice?callId=call_abc_3&attempt=2",
    );
    expect(twilioVoiceUrl("not a url", "call_abc_3", 1)).toBeNull();
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

describe("TwilioProvider.dial", () => {
  const CFG = {
    accountSid: "ACtest",
    authToken: "token",
    apiBaseUrl: "https://twilio.example.test",
    publicBaseUrl: "https://calls.example.test",
    callLeaseMs: 3_600_000,
  };
  const REQ: DialRequest = {
    callId: "call_abc_3",
    batchId: "batch_abc",
    seq: 3,
    attempt: 2,
    to: "+12125551001",
    from: "+14155550100",
    agentId: "agent_x",
    voiceUrl: "https://agent.example.test/voice?lang=en",
    dialUrl: null,
    variables: { first_name: "Ada" },
    record: false,
  };
  /** Answers the create as Twilio would, keeping the form it was sent. */
  const creating = () => {
    const forms: URLSearchParams[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      forms.push(new URLSearchParams(await new Request(input, init).text()));
      return new Response(JSON.stringify({ sid: "CA1" }), { status: 201 });
    });
    return forms;
  };

  it("asks Twilio for the agent's voiceUrl with the call and the attempt in its query, and records nothing unasked", async () => {
    const forms = creating();
    expect(await new TwilioProvider(CFG).dial(REQ)).toEqual({ kind: "placed", providerCallId: "CA1" });
    expect(forms[0]!.get("Url")).toBe("https://agent.example.test/voice?lang=en&callId=call_abc_3&attempt=2");
    for (const name of ["Record", "RecordingStatusCallback", "RecordingStatusCallbackEvent", "RecordingStatusCallbackMethod"]) {
      expect(forms[0]!.has(name)).toBe(false);
    }
    expect(forms[0]!.get("MachineDetection")).toBe("Enable");
  });

  it("records an agent's calls when it asks, with a callback for the finished recording of this attempt", async () => {
    const forms = creating();
    await new TwilioProvider(CFG).dial({ ...REQ, record: true });
    expect(Object.fromEntries(forms[0]!)).toMatchObject({
      Record: "true",
      RecordingStatusCallback: "https://calls.example.test/v1/webhooks/twilio/recording?callId=call_abc_3&attempt=2",
      RecordingStatusCallbackEvent: "completed",
      RecordingStatusCallbackMethod: "POST",
    });
  });

  it("refuses an agent whose voiceUrl is not a URL, without asking Twilio", async () => {
    const forms = creating();
    expect(await new TwilioProvider(CFG).dial({ ...REQ, voiceUrl: "voice" })).toEqual({ kind: "rejected", error: "the agent's voiceUrl is not a valid URL" });
    expect(forms).toEqual([]);
  });
});

describe("parseTwilioRecording", () => {
  const URL_ = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Recordings/RE1";
  const form = (fields: Record<string, string>) =>
    parseTwilioRecording(Object.entries({ AccountSid: "ACtest", CallSid: "CA1", RecordingSid: "RE1", ...fields }));

  it("keeps a completed recording's URL", () => {
    expect(form({ RecordingStatus: "completed", RecordingUrl: URL_ })).toEqual({ kind: "recording", recordingUrl: URL_ });
  });

  it("has nothing to keep from a recording that did not complete", () => {
    for (const RecordingStatus of ["in-progress", "absent", "failed", ""])
      expect(form({ RecordingStatus, RecordingUrl: URL_ })).toEqual({ kind: "not_completed" });
    expect(form({ RecordingUrl: URL_ })).toEqual({ kind: "not_completed" });
  });

  it("refuses a completed recording without an https RecordingUrl, saying what it must be", () => {
    const problem = "RecordingUrl must be an https URL of at most 2048 characters.";
    for (const RecordingUrl of ["", "not a url", "http://api.twilio.com/rec", `https://api.twilio.com/${"r".repeat(2048)}`]) {
      expect(form({ RecordingStatus: "completed", RecordingUrl })).toEqual({ kind: "invalid", problem });
    }
  });
});
