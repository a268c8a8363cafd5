import { describe, expect, it, vi } from "vitest";
import type { CallProvider } from "../../src/telephony/provider";
import { dialStatusUrl, parseDialReport, reportCallId, WebhookProvider } from "../../src/telephony/webhook";

const CALL = { callId: "call_abc_3", batchId: "batch_abc", seq: 3 };
const NOW = 1_700_000_000_000;
const LEASE_SEC = 3600;

const parse = (body: unknown) => parseDialReport(typeof body === "string" ? body : JSON.stringify(body), CALL, LEASE_SEC, NOW);

describe("parseDialReport", () => {
  it("reads ringing and in_progress as progress of the reported attempt", () => {
    for (const status of ["ringing", "in_progress"]) {
      expect(parse({ callId: CALL.callId, attempt: 2, status, providerCallId: "remote-1" })).toEqual({
        ok: true,
        event: { kind: "progress", batchId: "batch_abc", seq: 3, attempt: 2, providerCallId: "remote-1" },
      });
    }
  });

  it("reads every outcome as a final event at the given time, with the dialer's duration and error", () => {
    for (const status of ["answered", "voicemail", "no_answer", "busy", "failed", "canceled"]) {
      expect(parse({ callId: CALL.callId, attempt: 1, status })).toEqual({
        ok: true,
        event: { kind: "final", batchId: "batch_abc", seq: 3, attempt: 1, outcome: status, at: NOW, durationSec: null, error: null, providerCallId: undefined },
      });
    }
    expect(parse({ callId: CALL.callId, attempt: 1, status: "failed", duration: 12.5, error: "carrier said no", providerCallId: "r2" })).toMatchObject({
      ok: true,
      event: { outcome: "failed", durationSec: 12.5, error: "carrier said no", providerCallId: "r2" },
    });
  });

  it("refuses a body that is not JSON", () => {
    expect(parse("{not json")).toEqual({ ok: false, problem: "The body is not JSON." });
  });

  it("refuses a report of the wrong shape, naming the field", () => {
    const r = parse({ callId: CALL.callId, attempt: 1, status: "exploded" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem).toMatch(/^The status report is invalid: .*status.*\.$/);
    expect(parse({ callId: CALL.callId, attempt: 0, status: "busy" }).ok).toBe(false);
    expect(parse({ callId: CALL.callId, attempt: 100_001, status: "busy" }).ok).toBe(false);
    expect(parse({ callId: CALL.callId, attempt: 1, status: "busy", providerCallId: "x".repeat(201) }).ok).toBe(false);
  });

  it("will not let a report speak for another call than the one its statusUrl names", () => {
    expect(parse({ callId: "call_abc_4", attempt: 1, status: "answered" })).toEqual({
      ok: false,
      problem: "The report's callId is not the call of the statusUrl it was sent to.",
    });
  });

  it("refuses a duration above the call lease, and accepts one equal to it", () => {
    expect(parse({ callId: CALL.callId, attempt: 1, status: "answered", duration: LEASE_SEC + 1 })).toEqual({
      ok: false,
      problem: `duration must be between 0 and ${LEASE_SEC} seconds (the call lease).`,
    });
    expect(parse({ callId: CALL.callId, attempt: 1, status: "answered", duration: LEASE_SEC }).ok).toBe(true);
  });
});

describe("reportCallId", () => {
  it("is the body's callId when it is a string, and nothing otherwise", () => {
    expect(reportCallId(JSON.stringify({ callId: "call_abc_3" }))).toBe("call_abc_3");
    expect(reportCallId(JSON.stringify({ callId: 3 }))).toBeUndefined();
    expect(reportCallId("null")).toBeUndefined();
    expect(reportCallId("{not json")).toBeUndefined();
  });
});

describe("dialStatusUrl", () => {
  it("is on the public base URL, with or without its trailing slash", () => {
    const url = "https://calls.example.test/v1/webhooks/dial/status?callId=call_abc_3";
    expect(dialStatusUrl("https://calls.example.test", "call_abc_3")).toBe(url);
    expect(dialStatusUrl("https://calls.example.test/", "call_abc_3")).toBe(url);
  });
});

describe("WebhookProvider.findLostDial", () => {
  it("says the fate is unknown without asking anyone: the remote end cannot be asked", async () => {
    const fetched = vi.spyOn(globalThis, "fetch");
    const provider: CallProvider = new WebhookProvider({ db: {} as D1Database, encKey: "", publicBaseUrl: "https://calls.example.test" });
    const dial = { batchId: "batch_abc", seq: 3, attempt: 1, to: "+12125551001", from: null, claimedAt: 0 };
    expect(await provider.findLostDial(dial)).toEqual({ kind: "unknown", reason: "the agent's dial endpoint never confirmed it and cannot be asked" });
    expect(fetched).not.toHaveBeenCalled();
    fetched.mockRestore();
  });
});
