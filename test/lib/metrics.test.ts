import { beforeEach, describe, expect, it } from "vitest";
import { instrumentEnv, instrumentHandler, metricsSnapshot, resetMetrics } from "../../src/lib/metrics";

type Sent = { method: string; args: unknown[] };

/** A queue that records what reaches it, as the platform's binding would receive it. */
function fakeQueue(sent: Sent[]) {
  return {
    send: async (...args: unknown[]) => void sent.push({ method: "send", args }),
    sendBatch: async (...args: unknown[]) => void sent.push({ method: "sendBatch", args }),
  };
}

function fakeEnv(metrics: "on" | "off", sent: Sent[]): Env {
  return {
    METRICS: metrics,
    DB: {},
    BATCH_SCHEDULER: {},
    WORKSPACE_LIMITER: {},
    SIM_CARRIER: {},
    CALL_QUEUE: fakeQueue(sent),
    WEBHOOK_QUEUE: fakeQueue(sent),
  } as unknown as Env;
}

const counters = () => metricsSnapshot().counters;

beforeEach(() => resetMetrics());

describe("instrumentEnv's queues", () => {
  it("counts each message sent, per queue and over all, and passes the sends on unchanged", async () => {
    const sent: Sent[] = [];
    const env = instrumentEnv(fakeEnv("on", sent));
    const jobs = [1, 2, 3].map((seq) => ({ body: { batchId: "batch_x", seq, attempt: 1 }, contentType: "json" as const }));
    await env.CALL_QUEUE.sendBatch(jobs, { delaySeconds: 2 });
    await env.WEBHOOK_QUEUE.send({ type: "batch.completed" }, { contentType: "json" });
    expect(counters()).toMatchObject({
      "queue.call-jobs.sent": 3,
      "queue.call-jobs.sentChunks": 3,
      "queue.webhook-events.sent": 1,
      "queue.sent": 4,
    });
    expect(sent).toEqual([
      { method: "sendBatch", args: [jobs, { delaySeconds: 2 }] },
      { method: "send", args: [{ type: "batch.completed" }, { contentType: "json" }] },
    ]);
  });

  it("counts a message over 64 KB as the operations Queues bills for it", async () => {
    const env = instrumentEnv(fakeEnv("on", []));
    await env.WEBHOOK_QUEUE.send({ transcript: "x".repeat(70_000) });
    expect(counters()["queue.webhook-events.sentChunks"]).toBe(2);
  });

  it("leaves the env as it is with metrics off", async () => {
    const sent: Sent[] = [];
    const raw = fakeEnv("off", sent);
    expect(instrumentEnv(raw)).toBe(raw);
    await raw.CALL_QUEUE.send({ batchId: "batch_x", seq: 0, attempt: 1 });
    expect(counters()).toEqual({});
    expect(sent).toHaveLength(1);
  });
});

describe("instrumentHandler", () => {
  const ctx = {} as ExecutionContext;
  const message = (attempts: number) => ({ attempts }) as Message<unknown>;
  const batchOf = (queue: string, attempts: number[]) => ({ queue, messages: attempts.map(message) }) as unknown as MessageBatch<unknown>;

  it("counts every HTTP request and consumer batch as a Worker request, with the messages delivered", async () => {
    const handled: string[] = [];
    const worker: ExportedHandler<Env> = {
      fetch: async (req) => {
        handled.push(new URL(req.url).pathname);
        return new Response("ok");
      },
      queue: async (batch) => void handled.push(`${batch.queue}:${batch.messages.length}`),
    };
    const handler = instrumentHandler(worker);
    const env = fakeEnv("on", []);
    const res = await handler.fetch?.(new Request("https://calls.example.test/healthz"), env, ctx);
    expect(await res?.text()).toBe("ok");
    await handler.queue?.(batchOf("call-jobs", [1, 1, 3]), env, ctx);
    await handler.queue?.(batchOf("webhook-events", [1]), env, ctx);
    expect(handled).toEqual(["/healthz", "call-jobs:3", "webhook-events:1"]);
    expect(counters()).toMatchObject({
      "worker.requests": 3,
      "worker.fetch": 1,
      "worker.queue": 2,
      "queue.call-jobs.batches": 1,
      "queue.call-jobs.delivered": 3,
      "queue.call-jobs.redelivered": 1,
      "queue.webhook-events.batches": 1,
    });
  });

  it("counts nothing with metrics off, and the handlers still run", async () => {
    let ran = 0;
    const worker: ExportedHandler<Env> = { queue: async () => void ran++ };
    const handler = instrumentHandler(worker);
    await handler.queue?.(batchOf("call-jobs", [1]), fakeEnv("off", []), ctx);
    expect(ran).toBe(1);
    expect(counters()).toEqual({});
    expect(handler.fetch).toBeUndefined();
  });
});
