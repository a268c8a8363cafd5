import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index";
import type { ArmInput, ClaimResult, RecordResultAnswer, ResultReport } from "../src/durable/batch/contract";
import type { BatchScheduler } from "../src/durable/batch/scheduler";
import type { WorkspaceLimiter } from "../src/durable/workspace-limiter";
import type { CallJob } from "../src/queue/call-job";
import type { WebhookEvent } from "../src/queue/webhook-event";
import { applyCallEvent } from "../src/services/call-events";
import { ADMIN, authHeaders, call, json, upload, type TestWorkspace } from "./helpers";

/** A queue that records what it is sent, and can fail a chosen sendBatch call. */
export function recordingQueue(failOnCall?: number) {
  const sent: CallJob[] = [];
  let calls = 0;
  return {
    sent,
    sendBatch: async (msgs: Iterable<MessageSendRequest<CallJob>>) => {
      calls++;
      if (calls === failOnCall) throw new Error("injected queue failure");
      for (const m of msgs) sent.push(m.body);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as unknown as QueueSendBatchResponse;
    },
  };
}

/**
 * Stands the batch's object and its workspace's limiter at `at`, and runs
 * `step` in the object. Both stay at `at` until the test moves them again:
 * one clock for the test's world, so the object's pokes and alarms keep the
 * test's time (a day ahead for an upload scheduled tomorrow) and never fire
 * on the real clock half-way through a test, and the starts the limiter
 * stamps are on the same clock as the leases the object sets. The
 * recording queue stays too: an alarm sends to it, not to the real queue.
 */
async function onClock<T>(batchId: string, queue: ReturnType<typeof recordingQueue> | null, at: number, step: (obj: BatchScheduler) => Promise<T>): Promise<T> {
  const scheduler = env.BATCH_SCHEDULER.getByName(batchId);
  const state = await scheduler.state();
  if (state) {
    await runInDurableObject(env.WORKSPACE_LIMITER.getByName(state.workspaceId), async (l: WorkspaceLimiter) => {
      l.ports = { now: () => at };
    });
  }
  return runInDurableObject(scheduler, async (obj: BatchScheduler) => {
    obj.ports = { queue: queue ?? obj.ports.queue, now: () => at };
    return step(obj);
  });
}

/** Runs one tick of the batch's scheduler with a recording queue, the batch and its limiter standing at `at` (see onClock). */
export async function tick(batchId: string, queue: ReturnType<typeof recordingQueue>, at: number): Promise<number | null> {
  return onClock(batchId, queue, at, (obj) => obj.tick());
}

/** Uploads a CSV (scheduled a day ahead) and returns its id and start time. */
export async function uploaded(ws: TestWorkspace, csv: string, fields: Record<string, string> = {}) {
  const res = await upload(ws, csv, fields);
  expect(res.status).toBe(201);
  const { batchId } = await json(res);
  const due = (await env.BATCH_SCHEDULER.getByName(batchId).state())!.dueAt;
  return { batchId, due };
}

/** Starts the batch and hands out its first slice to a recording queue. */
export async function dispatched(ws: TestWorkspace, csv: string, fields: Record<string, string> = {}) {
  const { batchId, due } = await uploaded(ws, csv, fields);
  const q = recordingQueue();
  await tick(batchId, q, due);
  return { batchId, due, jobs: q.sent, queue: q };
}

/**
 * Delivers message bodies to the Worker's queue handler, as the named queue
 * would (call jobs by default). Bodies are whatever a producer could have
 * sent, malformed ones included: the consumer is what has to cope.
 */
export async function consume(bodies: readonly unknown[], attempts = 1, queue = "call-jobs") {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, i) => {
      const job = (typeof body === "object" && body !== null ? body : {}) as Partial<CallJob>;
      return { id: `msg-${i}-${job.seq}-${job.attempt}`, timestamp: new Date(), attempts, body };
    }),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<CallJob>, env, ctx);
  return getQueueResult(batch, ctx);
}

/** Runs a query against a batch's own ledger (its object's SQLite). */
/** The object's SQL with every statement's cursor kept, in order: what a step read and wrote, counted as Cloudflare bills it. */
export function recordingSql(sql: SqlStorage) {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const recording = new Proxy(sql, {
    get(t, p) {
      if (p === "exec")
        return (q: string, ...params: SqlStorageValue[]) => {
          const cursor = t.exec(q, ...params);
          cursors.push(cursor);
          return cursor;
        };
      const v = Reflect.get(t, p);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  return { sql: recording, cursors };
}

export async function ledgerQuery<T = Record<string, any>>(batchId: string, query: string, ...params: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => state.storage.sql.exec(query, ...params).toArray() as T[]);
}

export async function callRow(batchId: string, seq: number) {
  return (await ledgerQuery(batchId, "SELECT * FROM calls WHERE seq = ?", seq))[0] ?? null;
}

/** The batch as its object knows it: status, counters, times. */
export async function batchRow(batchId: string) {
  return (await ledgerQuery(batchId, "SELECT * FROM batch WHERE id = 1"))[0] ?? null;
}

export function phoneList(n: number, lastDigit = 1): string {
  const rows = ["phone_number"];
  for (let i = 0; i < n; i++) rows.push(`+1212555${String(1000 + i * 10 + lastDigit).padStart(4, "0")}`);
  return rows.join("\n");
}

/**
 * The consumer's claim and start at `now`, through the object's own claim()
 * (the limiter's rate gate included) and, unless `confirmed: false` (the
 * claimer died before dialling, so only the short claim lease holds it),
 * placed() with the provider's answer — the two calls the call-job consumer
 * makes, without a provider.
 */
export async function claimAt(batchId: string, seq: number, attempt: number, now: number, opts: { confirmed?: boolean } = {}) {
  const [result] = await onClock(batchId, null, now, async (obj) => {
    const claimed = await obj.claim([{ seq, attempt }]);
    if (claimed[0]?.kind === "claimed" && opts.confirmed !== false) {
      await obj.placed([{ seq, attempt, kind: "placed", providerCallId: `test_${seq}_${attempt}` }]);
    }
    return claimed;
  });
  expect(result?.kind).toBe("claimed");
}

/** An agent's result for call `seq`, handed to the batch's object at `at` (the object and its limiter standing there). */
export async function reportAt(
  batchId: string,
  seq: number,
  report: Omit<ResultReport, "source"> & { source?: ResultReport["source"] },
  at: number,
): Promise<RecordResultAnswer> {
  return onClock(batchId, null, at, (obj) => obj.recordResult(seq, { source: "api", ...report }));
}

/** The object's claim() of a consumer batch's jobs, the batch and its limiter standing at `at`: what each job got. */
export async function claimJobsAt(batchId: string, jobs: { seq: number; attempt: number }[], at: number): Promise<ClaimResult[]> {
  return onClock(batchId, null, at, (obj) => obj.claim(jobs));
}

/** What an upload hands its batch's object when it arms it: one call, a simulated agent, no options. */
export function armInput(o: { batchId: string; dueAt: number; workspaceId?: string; agentId?: string; csvKey?: string }): ArmInput {
  const agent = { id: o.agentId ?? "agent_x", provider: "simulated" as const, from_number: null, voice_url: null, dial_url: null };
  const config = {
    columns: ["phone_number"],
    agent,
    smartCallbackConfig: null,
    callingWindow: null,
    maxConcurrentCalls: null,
    csvKey: o.csvKey ?? `none/${o.batchId}`,
    defaultCountry: "US",
    totalCalls: 1,
  };
  return { batchId: o.batchId, workspaceId: o.workspaceId ?? "ws_x", dueAt: o.dueAt, config, suppressed: [] };
}

/** A completed batch (file order: answered, no_answer, busy), driven on the test clock: two calls a retry would re-queue. */
export async function completedWithRetryable(ws: TestWorkspace) {
  const { batchId, due } = await uploaded(ws, "phone_number\n+12125551001\n+12125551006\n+12125551008\n");
  const q = recordingQueue();
  await tick(batchId, q, due);
  const outcomes = ["answered", "no_answer", "busy"] as const;
  for (const j of q.sent) {
    await claimAt(batchId, j.seq, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: j.seq, attempt: 1, outcome: outcomes[j.seq]!, at: due + 100, durationSec: 2 });
  }
  await tick(batchId, q, due + 200);
  expect((await batchRow(batchId))?.status).toBe("completed");
  return { batchId, due };
}

/** A workspace with a webhookUrl (so its batches' objects emit events) and a simulated agent. */
export async function hookedWorkspace(rateLimits = { callsPerSecond: 5, maxConcurrentCalls: 5 }): Promise<TestWorkspace> {
  const ws = await json(
    await call("/v1/admin/workspaces", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ name: "Hooked", webhookUrl: "https://hooks.example.test/calls", rateLimits }),
    }),
  );
  const agent = await json(
    await call("/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ name: "Sim", provider: "simulated" }),
    }),
  );
  return { workspaceId: ws.workspaceId, apiKey: ws.apiKey, keyId: ws.keyId, agentId: agent.agentId };
}

/** Events the batch's object hands to the webhook queue, captured in the object itself. */
export async function captureEvents(batchId: string): Promise<WebhookEvent[]> {
  const seen: WebhookEvent[] = [];
  await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    const own = (obj as unknown as { env: Env }).env;
    (obj as unknown as { env: Env }).env = { ...own, WEBHOOK_QUEUE: { send: async (e: WebhookEvent) => void seen.push(e) } as unknown as Queue };
  });
  return seen;
}
