import {
  claimAttempt,
  closeUndialled,
  getBatchById,
  loadDialContext,
  setAttemptError,
  setProviderCallId,
  unclaimAttempt,
  undispatch,
  type DialContext,
} from "../db/engine.repo";
import { leaseId } from "../durable/workspace-limiter";
import { engineConfig } from "../engine-config";
import { callId } from "../lib/ids";
import { log } from "../lib/log";
import { afterCallEnded, applyCallEvent } from "../services/call-events";
import { providerFor } from "../telephony";
import type { CallProvider } from "../telephony/provider";
import { CallJobSchema, type CallJob } from "./call-job";
import { emitWebhook } from "./webhook-event";

/** How a job ended: acknowledged, or back on the queue after a delay. */
export type JobResult = { ack: true; note: string } | { ack: false; retryAfterSec: number; note: string };

export type ConsumerDeps = {
  provider: (kind: DialContext["agent"]["provider"]) => CallProvider;
  sleep: (ms: number) => Promise<void>;
};

const defaultDeps = (env: Env): ConsumerDeps => ({
  provider: (kind) => providerFor(env, kind),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
});

/** Longest a job waits at the rate gate before it goes back on the queue. */
const MAX_GATE_WAIT_MS = 20_000;

function backoffSec(attempts: number): number {
  return Math.min(300, 2 ** Math.min(attempts, 8));
}

function variablesOf(ctx: DialContext): Record<string, string> {
  const columns = JSON.parse(ctx.batch.columns) as string[];
  const values = JSON.parse(ctx.call.metadata) as string[];
  const known = new Set(["phone_number", "first_name", "last_name", "email", "timezone"]);
  const out: Record<string, string> = {};
  columns.forEach((c, i) => {
    if (!known.has(c)) out[c] = values[i] ?? "";
  });
  return out;
}

/**
 * One dial attempt, exactly once: pass the workspace's rate gate with the
 * call still waiting, then claim it and stamp its start in one conditional
 * statement (a duplicate or redelivered job, or a cancel or pause that
 * landed first, makes the claim match nothing), then dial.
 */
export async function processCallJob(env: Env, job: CallJob, deliveries: number, deps: ConsumerDeps = defaultDeps(env)): Promise<JobResult> {
  const { batchId, seq, attempt } = job;
  const lease = leaseId(batchId, seq, attempt);
  const ctx = await loadDialContext(env.DB, batchId, seq);
  if (!ctx) return { ack: true, note: "unknown call" };
  const limiter = env.WORKSPACE_LIMITER.getByName(ctx.batch.workspace_id);
  const cfg = engineConfig(env);
  const fields = { workspaceId: ctx.batch.workspace_id, batchId, seq, attempt };

  if (ctx.call.attempts >= attempt) return { ack: true, note: "already claimed" };
  if (ctx.onDnc) {
    if (await closeUndialled(env.DB, batchId, seq, attempt, "cancelled", null, "on the do-not-call list", Date.now())) {
      await afterCallEnded(env, ctx.batch, [lease]);
    }
    return { ack: true, note: "do-not-call" };
  }

  if (ctx.call.status !== "waiting" || ctx.call.dispatched_attempt !== attempt || ctx.batch.status !== "processing") {
    return giveBack(env, ctx, job, lease);
  }

  // The rate gate: wait for a start slot in the workspace's one-second window.
  // The call is still waiting meanwhile; a cancel or pause now is honoured by the claim below.
  let waited = 0;
  let startedAt: number;
  for (;;) {
    const gate = await limiter.start({ leaseId: lease, callsPerSecond: ctx.limits.callsPerSecond, callLeaseMs: cfg.callLeaseMs });
    if (gate.ok) {
      // The start the limiter counted is the call's start: the window it checked is the one reported.
      startedAt = gate.at;
      break;
    }
    if ("noLease" in gate || waited >= MAX_GATE_WAIT_MS) {
      // The reservation lapsed (or the queue is far behind): hand the attempt back untouched.
      await undispatch(env.DB, batchId, seq, attempt);
      if (!("noLease" in gate)) await limiter.release([lease]);
      return { ack: true, note: "reservation lapsed; handed back" };
    }
    await deps.sleep(gate.waitMs);
    waited += gate.waitMs;
  }

  if (!(await claimAttempt(env.DB, batchId, seq, attempt, startedAt, startedAt + cfg.callLeaseMs))) {
    return giveBack(env, ctx, job, lease);
  }

  const result = await deps.provider(ctx.agent.provider).dial({
    callId: callId(batchId, seq),
    batchId,
    seq,
    attempt,
    to: ctx.call.phone_number,
    from: ctx.agent.from_number,
    agentId: ctx.agent.id,
    voiceUrl: ctx.agent.voice_url,
    dialUrl: ctx.agent.dial_url,
    variables: variablesOf(ctx),
  });
  log("info", "call.dial", { ...fields, provider: ctx.agent.provider, result: result.kind });
  if (result.kind === "placed" || result.kind === "unknown") {
    const id = callId(batchId, seq);
    const data = { batchId, callId: id, attempt, phone_number: ctx.call.phone_number, startTime: startedAt };
    await emitWebhook(env, ctx.batch.workspace_id, "call.started", `${id}:${attempt}`, data, ctx.webhookUrl);
  }

  switch (result.kind) {
    case "placed":
      await setProviderCallId(env.DB, batchId, seq, attempt, result.providerCallId);
      return { ack: true, note: "placed" };
    case "rate_limited":
      // Nothing was placed: undo the claim (the lease stays reserved) and try again later.
      await unclaimAttempt(env.DB, batchId, seq, attempt);
      return { ack: false, retryAfterSec: Math.max(result.retryAfterSec, backoffSec(deliveries)), note: "provider rate limit" };
    case "unknown":
      // Never re-sent: the status webhook or the lease expiry settles this attempt.
      await setAttemptError(env.DB, batchId, seq, attempt, result.error);
      return { ack: true, note: "unconfirmed" };
    case "rejected":
      await applyCallEvent(env, { kind: "final", batchId, seq, attempt, outcome: "failed", at: Date.now(), error: result.error });
      return { ack: true, note: "rejected" };
  }
}

/**
 * The job cannot be claimed: a twin already has it, or the batch is not
 * running. A paused batch gets the attempt back for later; the slot is
 * freed unless this very attempt is live.
 */
async function giveBack(env: Env, ctx: DialContext, job: CallJob, lease: string): Promise<JobResult> {
  const { batchId, seq, attempt } = job;
  const now = await loadDialContext(env.DB, batchId, seq);
  const status = now?.batch.status ?? "gone";
  if (status === "paused" || status === "queued") await undispatch(env.DB, batchId, seq, attempt);
  if (!(now && now.call.status === "active" && now.call.attempts === attempt)) await afterCallEnded(env, ctx.batch, [lease]);
  return { ack: true, note: `not claimable (batch ${status})` };
}

/** Call-job consumer: acks per message; a thrown job is retried with backoff, never the whole batch. */
export async function handleCallJobs(batch: MessageBatch<CallJob>, env: Env, deps?: ConsumerDeps): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      const job = CallJobSchema.safeParse(msg.body);
      if (!job.success) {
        log("error", "call_job.malformed", { messageId: msg.id });
        msg.ack();
        return;
      }
      try {
        const r = await processCallJob(env, job.data, msg.attempts, deps);
        if (r.ack) msg.ack();
        else msg.retry({ delaySeconds: r.retryAfterSec });
      } catch (err) {
        log("error", "call_job.error", { batchId: job.data.batchId, seq: job.data.seq, attempt: job.data.attempt, error: String(err) });
        msg.retry({ delaySeconds: backoffSec(msg.attempts) });
      }
    }),
  );
}

/** Dead-letter consumer: a job that exhausted its retries fails its call with a clear error. */
export async function handleDeadCallJobs(batch: MessageBatch<CallJob>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const job = CallJobSchema.safeParse(msg.body);
    if (!job.success) {
      msg.ack();
      continue;
    }
    const { batchId, seq, attempt } = job.data;
    const error = "the call could not be dispatched: its job failed on every retry";
    // A job that died after its claim but before any dial is first put back to waiting, then closed.
    if (!(await closeUndialled(env.DB, batchId, seq, attempt, "failed", "failed", error, Date.now()))) {
      if (await unclaimAttempt(env.DB, batchId, seq, attempt)) {
        await closeUndialled(env.DB, batchId, seq, attempt, "failed", "failed", error, Date.now());
      }
    }
    const b = await getBatchById(env.DB, batchId);
    if (b) await afterCallEnded(env, b, [leaseId(batchId, seq, attempt)]);
    log("error", "call_job.dead_lettered", { batchId, seq, attempt });
    msg.ack();
  }
}
