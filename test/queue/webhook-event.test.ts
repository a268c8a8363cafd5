import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebhookEvent } from "../../src/queue/webhook-event";
import { consume } from "../engine-helpers";
import { ADMIN, authHeaders, call, json, newWorkspace, upload } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const HOOK = "https://hooks.example.test/calls";

/** Standard Webhooks verification, written out from the spec (not the service's own helper). */
async function verifies(secret: string, req: { id: string; ts: string; sig: string; body: string }): Promise<boolean> {
  const raw = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${req.id}.${req.ts}.${req.body}`)));
  return req.sig.split(" ").includes(`v1,${btoa(String.fromCharCode(...mac))}`);
}

type Delivery = { url: string; id: string; ts: string; sig: string; body: string };

function captureDeliveries(status = 200) {
  const seen: Delivery[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
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

async function hookedWorkspace(limits = { callsPerSecond: 10, maxConcurrentCalls: 10 }) {
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
      body: JSON.stringify({ name: "Sim", provider: "simulated" }),
    }),
  );
  return { ...ws, agentId: agent.agentId } as { workspaceId: string; apiKey: string; keyId: string; agentId: string; webhookSecret: string };
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
  });

  it("a running batch reports started, each call, and completed, each with its own stable id", async () => {
    const ws = await hookedWorkspace();
    const seen = captureDeliveries();
    const res = await upload(ws, "phone_number\n+12125551001\n+12125551009\n", { scheduledAt: "" });
    const { batchId } = await json(res);
    const until = Date.now() + 20_000;
    const types = () => seen.map((d) => JSON.parse(d.body).type as string).sort();
    while (!(types().includes("batch.completed") && types().length >= 6) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(types()).toEqual(["batch.completed", "batch.started", "call.completed", "call.failed", "call.started", "call.started"]);
    expect(new Set(seen.map((d) => d.id)).size).toBe(6);
    for (const d of seen) expect(await verifies(ws.webhookSecret, d)).toBe(true);
    const completed = seen.map((d) => JSON.parse(d.body)).find((b) => b.type === "call.completed");
    expect(completed.data).toMatchObject({ batchId, callId: `call_${batchId.slice(6)}_0`, attempt: 1, status: "completed", outcome: "answered" });
  });
});
