import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index";
import type { ArmInput, BatchScheduler } from "../src/durable/batch-scheduler";
import type { CallJob } from "../src/queue/call-job";
import { applyCallEvent } from "../src/services/call-events";
import { json, upload, type TestWorkspace } from "./helpers";

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

/** Runs one tick of the batch's scheduler with a recording queue and a clock set to `at`. */
export async function tick(batchId: string, queue: ReturnType<typeof recordingQueue>, at: number): Promise<number | null> {
  return runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (obj: BatchScheduler) => {
    obj.ports = { queue, now: () => at };
    return obj.tick();
  });
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
 * The consumer's claim and start, without a provider: the attempt is then
 * live, its dial confirmed as a provider's answer would (`confirmed: false`:
 * the claimer died before dialling, so only the short claim lease holds it).
 *
 * It writes the ledger directly, and makes exactly the two transitions the
 * consumer's path makes through the object: `claim()`'s ledger.claim (start
 * stamped, the DIAL_CONFIRM_MS lease) and `placed()`'s ledger.confirmDial for
 * a "placed" report (the call lease from engineConfig). What it leaves out is
 * the workspace limiter's rate gate (startMany), which admits the start.
 * It goes round the object because `claim()` stamps the start with the wall
 * clock, while these tests run the batch on the clock they inject into
 * `tick`: with the real claim, a call started "now" would be a day old, its
 * lease long expired, at the tick's time. Once the object's claim takes its
 * time from `ports.now`, this can call `claim()` and `placed()` instead.
 */
export async function claimAsConsumerWould(batchId: string, seq: number, attempt: number, now: number, opts: { confirmed?: boolean } = {}) {
  const claimed = await runInDurableObject(env.BATCH_SCHEDULER.getByName(batchId), async (_o, state) => {
    const { CallLedger } = await import("../src/db/call-ledger");
    const { DIAL_CONFIRM_MS, engineConfig } = await import("../src/engine-config");
    const ledger = new CallLedger(state.storage.sql);
    const ok = ledger.claim(seq, attempt, now, now + DIAL_CONFIRM_MS);
    if (ok && opts.confirmed !== false)
      ledger.confirmDial(seq, attempt, { providerCallId: `test_${seq}_${attempt}`, callLeaseMs: engineConfig(env).callLeaseMs });
    return ok;
  });
  expect(claimed).toBe(true);
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
    await claimAsConsumerWould(batchId, j.seq, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: j.seq, attempt: 1, outcome: outcomes[j.seq]!, at: due + 100, durationSec: 2 });
  }
  await tick(batchId, q, due + 200);
  expect((await batchRow(batchId))?.status).toBe("completed");
  return { batchId, due };
}
