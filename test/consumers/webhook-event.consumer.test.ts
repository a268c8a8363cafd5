import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook } from "../../src/lib/signing";
import type { WebhookEvent } from "../../src/queue/webhook-event";
import { consume, dispatched, tick } from "../engine-helpers";
import { ADMIN, authHeaders, call, json, newWorkspace, upload } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const HOOK = "https://hooks.example.test/calls";
const DIAL_URL = "https://dialer.example.com/dial";

/** Standard Webhooks verification, written out from the spec (not the service's own helper). */
async function verifies(secret: string, req: { id: string; ts: string; sig: string; body: string }): Promise<boolean> {
  const raw = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${req.id}.${req.ts}.${req.body}`)));
  return req.sig.split(" ").includes(`v1,${btoa(String.fromCharCode(...mac))}`);
}

type Delivery = { url: string; id: string; ts: string; sig: string; body: string };

/** Stubs outbound HTTP: the dial endpoint accepts every call; any other request is a webhook delivery, recorded and answered `status`. */
function captureDeliveries(status = 200) {
  const seen: Delivery[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (req.url === DIAL_URL) return new Response(JSON.stringify({ id: `remote-${crypto.randomUUID()}` }), { status: 200 });
    seen.push({
      url: req.url,
      id: req.headers.get("webhook-id")!,
      ts: req.headers.get("webhook-timestamp")!,
      sig: req.headers.get("webhook-signature")!,
      body: await req.text(),
    });
    return new Response(null, { status });
  });
  return seen;
}

/** A workspace with a webhookUrl and an agent of `provider` (a webhook agent dials DIAL_URL and comes with its signing secret). */
async function hookedWorkspace(limits = { callsPerSecond: 10, maxConcurrentCalls: 10 }, provider: "simulated" | "webhook" = "simulated") {
  const res = await call("/v1/admin/workspaces", {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ name: "Hooked", webhookUrl: HOOK, rateLimits: limits }),
  });
  const ws = await json(res);
  const agent = await json(
    await call("/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify(provider === "webhook" ? { name: "Hook", provider, dialUrl: DIAL_URL } : { name: "Sim", provider }),
    }),
  );
  return { ...ws, agentId: agent.agentId, agentSecret: agent.signingSecret } as {
    workspaceId: string;
    apiKey: string;
    keyId: string;
    agentId: string;
    webhookSecret: string;
    agentSecret?: string;
  };
}

/**
 * Every event the service queues for delivery (from the Worker and from the
 * batch's object alike: they share the queue binding), kept here instead of
 * sent, so a test hands them to the consumer itself when it chooses.
 */
function captureEmitted(workspaceId: string): WebhookEvent[] {
  const emitted: WebhookEvent[] = [];
  vi.spyOn(env.WEBHOOK_QUEUE, "send").mockImplementation(async (body: unknown) => {
    // objects of earlier tests share the binding: keep this workspace's events only
    if ((body as WebhookEvent).workspaceId === workspaceId) emitted.push(body as WebhookEvent);
    return undefined as never;
  });
  return emitted;
}

/** A dial endpoint's status report for one call, signed with the agent's secret, POSTed to its statusUrl. */
async function report(secret: string, body: { callId: string; attempt: number; status: string; duration?: number; error?: string }) {
  const raw = JSON.stringify(body);
  const headers = await signWebhook(secret, `msg_${crypto.randomUUID()}`, raw);
  return call(`/v1/webhooks/dial/status?callId=${body.callId}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: raw });
}

const event = (workspaceId: string): WebhookEvent => ({
  id: "evt_0123456789abcdef0123456789abcdef",
  type: "batch.started",
  workspaceId,
  timestamp: "2026-11-29T00:00:00.000Z",
  data: { batchId: "batch_x", totalCalls: 3 },
});

describe("outbound webhooks", () => {
  it("delivers an event signed per Standard Webhooks with the workspace's secret", async () => {
    const ws = await hookedWorkspace();
    const seen = captureDeliveries();
    const result = await consume([event(ws.workspaceId) as never], 1, "webhook-events");
    expect(result.explicitAcks).toHaveLength(1);
    expect(seen).toHaveLength(1);
    const d = seen[0]!;
    expect(d.url).toBe(HOOK);
    expect(d.id).toBe("evt_0123456789abcdef0123456789abcdef");
    expect(JSON.parse(d.body)).toEqual({ type: "batch.started", timestamp: "2026-11-29T00:00:00.000Z", data: { batchId: "batch_x", totalCalls: 3 } });
    expect(Math.abs(Number(d.ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(await verifies(ws.webhookSecret, d)).toBe(true);
    expect(await verifies(`whsec_${btoa("another secret, 32 bytes long!!!")}`, d)).toBe(false);
  });

  it("retries a failed delivery with the same event id, and drops events for workspaces without a webhookUrl", async () => {
    const ws = await hookedWorkspace();
    const seen = captureDeliveries(503);
    const first = await consume([event(ws.workspaceId) as never], 1, "webhook-events");
    expect(first.retryMessages).toHaveLength(1);
    const second = await consume([event(ws.workspaceId) as never], 2, "webhook-events");
    expect(second.retryMessages).toHaveLength(1);
    expect(seen.map((d) => d.id)).toEqual([event("").id, event("").id]);

    const plain = await newWorkspace();
    const none = await consume([event(plain.workspaceId) as never], 1, "webhook-events");
    expect(none.explicitAcks).toHaveLength(1);
    expect(seen).toHaveLength(2);
    expect(none.retryMessages).toEqual([]);
    // the retried deliveries were the same event, each signed afresh with the workspace's secret
    expect(seen.map((d) => d.body)).toEqual([seen[0]!.body, seen[0]!.body]);
    for (const d of seen) expect(await verifies(ws.webhookSecret, d)).toBe(true);
  });

  it("retries a delivery that cannot reach the receiver, and acks a malformed event without sending it", async () => {
    const ws = await hookedWorkspace();
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Network connection lost."));
    const unreachable = await consume([event(ws.workspaceId)], 1, "webhook-events");
    expect(unreachable.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(unreachable.explicitAcks).toEqual([]);

    const seen = captureDeliveries();
    const malformed = [null, "evt", {}, { ...event(ws.workspaceId), id: "not-an-event-id" }, { ...event(ws.workspaceId), type: "call.exploded" }];
    const result = await consume(malformed, 1, "webhook-events");
    expect(result.explicitAcks).toHaveLength(malformed.length);
    expect(result.retryMessages).toEqual([]);
    expect(seen).toEqual([]);
  });

  it("never follows a redirect: a 3xx is a failed delivery, retried, and the log says where it pointed", async () => {
    const ws = await hookedWorkspace();
    const modes: string[] = [];
    let answer: () => Promise<Response> = async () => new Response("moved", { status: 307, headers: { location: "https://169.254.169.254/latest?x=1" } });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      modes.push(new Request(input, init).redirect);
      return answer();
    });
    const warnings: Record<string, unknown>[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => {
      warnings.push(JSON.parse(String(line)) as Record<string, unknown>);
    });
    const redirected = await consume([event(ws.workspaceId)], 1, "webhook-events");
    expect(redirected.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(modes).toEqual(["manual"]);

    answer = () => Promise.reject(new Error("Network connection lost."));
    const refused = await consume([event(ws.workspaceId)], 2, "webhook-events");
    expect(refused.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    expect(warnings.filter((w) => w.event === "webhook.delivery_failed").map((w) => w.reason)).toEqual([
      "the webhookUrl answered 307 redirecting to https://169.254.169.254/latest; redirects are not followed",
      "could not connect to the webhookUrl: Network connection lost",
    ]);
  });

  it("a batch's events, from start to completion, each with its own stable id, delivered signed (the engine on an injected clock)", async () => {
    const ws = await hookedWorkspace({ callsPerSecond: 10, maxConcurrentCalls: 10 }, "webhook");
    const emitted = captureEmitted(ws.workspaceId);
    const seen = captureDeliveries();
    // +…1001 will answer, +…1009 will fail: reported by the dial endpoint, as a provider would
    const { batchId, due, jobs, queue } = await dispatched(ws, "phone_number\n+12125551001\n+12125551009\n");
    expect(jobs).toEqual([
      { batchId, seq: 0, attempt: 1 },
      { batchId, seq: 1, attempt: 1 },
    ]);
    expect(emitted.map((e) => e.type)).toEqual(["batch.started"]);

    const dialled = await consume(jobs);
    expect(dialled.explicitAcks).toHaveLength(2);
    expect(emitted.map((e) => e.type)).toEqual(["batch.started", "call.started", "call.started"]);

    const callId = (seq: number) => `call_${batchId.slice(6)}_${seq}`;
    expect((await report(ws.agentSecret!, { callId: callId(0), attempt: 1, status: "answered", duration: 12 })).status).toBe(204);
    expect((await report(ws.agentSecret!, { callId: callId(1), attempt: 1, status: "failed", error: "carrier rejected the number" })).status).toBe(204);
    // the scheduler's next pass (on the clock the batch already runs on) finds nothing left and completes the batch
    expect(await tick(batchId, queue, due)).toBeNull();
    const types = ["batch.started", "call.started", "call.started", "call.completed", "call.failed", "batch.completed"];
    expect(emitted.map((e) => e.type)).toEqual(types);

    // the same occurrences again (a redelivered job, a repeated report, another pass) queue nothing new
    await consume(jobs, 2);
    expect((await report(ws.agentSecret!, { callId: callId(0), attempt: 1, status: "answered", duration: 12 })).status).toBe(204);
    expect(await tick(batchId, queue, due + 2000)).toBeNull();
    expect(emitted).toHaveLength(6);

    const byType = (type: string) => emitted.filter((e) => e.type === type);
    expect(byType("batch.started")[0]!.data).toEqual({ batchId, totalCalls: 2 });
    expect(byType("call.started").map((e) => e.data)).toEqual([
      { batchId, callId: callId(0), attempt: 1, phone_number: "+12125551001", from: null, startTime: expect.any(Number) },
      { batchId, callId: callId(1), attempt: 1, phone_number: "+12125551009", from: null, startTime: expect.any(Number) },
    ]);
    expect(byType("call.completed")[0]!.data).toMatchObject({
      batchId,
      callId: callId(0),
      attempt: 1,
      status: "completed",
      outcome: "answered",
      duration: 12,
      error: null,
      endTime: expect.any(Number),
    });
    expect(byType("call.failed")[0]!.data).toMatchObject({
      batchId,
      callId: callId(1),
      attempt: 1,
      status: "failed",
      outcome: "failed",
      error: "Carrier rejected the number.",
      endTime: expect.any(Number),
    });
    expect(byType("batch.completed")[0]!.data).toEqual({ batchId, totalCalls: 2, completed: 1, failed: 1, cancelled: 0, completedTime: due });
    for (const e of emitted) {
      expect(e).toMatchObject({ id: expect.stringMatching(/^evt_[0-9a-f]{32}$/), workspaceId: ws.workspaceId, timestamp: expect.any(String) });
      expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
    }
    expect(new Set(emitted.map((e) => e.id)).size).toBe(6);

    // the consumer delivers each, once, to the workspace's webhookUrl, signed with its secret
    const delivered = await consume(emitted, 1, "webhook-events");
    expect(delivered.explicitAcks).toHaveLength(6);
    expect(delivered.retryMessages).toEqual([]);
    expect(seen.map((d) => d.url)).toEqual(Array(6).fill(HOOK));
    expect(seen.map((d) => d.id).sort()).toEqual(emitted.map((e) => e.id).sort());
    for (const d of seen) {
      expect(await verifies(ws.webhookSecret, d)).toBe(true);
      const e = emitted.find((x) => x.id === d.id)!;
      expect(JSON.parse(d.body)).toEqual({ type: e.type, timestamp: e.timestamp, data: e.data });
    }
  });

  // The one test through the real path: the batch's alarm, the call-jobs queue, the simulated carrier and the
  // webhook-events queue all run on their own (about a second); it waits for the deliveries, never for a fixed time.
  it("a running batch reports started, each call, and completed, each with its own stable id (the real queues and carrier)", async () => {
    const ws = await hookedWorkspace();
    const seen = captureDeliveries();
    const res = await upload(ws, "phone_number\n+12125551001\n+12125551009\n", { scheduledAt: "" });
    const { batchId } = await json(res);
    const types = () => seen.map((d) => JSON.parse(d.body).type as string).sort();
    await vi.waitFor(() => expect(types()).toHaveLength(6), { timeout: 20_000, interval: 20 });
    expect(types()).toEqual(["batch.completed", "batch.started", "call.completed", "call.failed", "call.started", "call.started"]);
    expect(new Set(seen.map((d) => d.id)).size).toBe(6);
    for (const d of seen) expect(await verifies(ws.webhookSecret, d)).toBe(true);
    const completed = seen.map((d) => JSON.parse(d.body)).find((b) => b.type === "call.completed");
    expect(completed.data).toMatchObject({ batchId, callId: `call_${batchId.slice(6)}_0`, attempt: 1, status: "completed", outcome: "answered" });
  });
});
