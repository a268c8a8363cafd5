import type { ClaimResult, DialContext, PlacedReport } from "../durable/batch/contract";
import { MAX_GATE_WAIT_MS } from "../engine-config";
import { callId } from "../lib/ids";
import { killPoint } from "../lib/fault";
import { log } from "../lib/log";
import { count, observe } from "../lib/metrics";
import { providerFor } from "../telephony";
import { askPreDial } from "../telephony/pre-dial";
import { placedReport } from "../telephony/provider";
import { CallJobSchema, type CallJob } from "../queue/call-job";
import { emitWebhook } from "../queue/webhook-event";

function backoffSec(attempts: number): number {
  return Math.min(300, 2 ** Math.min(attempts, 8));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Item = { msg: Message<unknown>; job: CallJob; settled?: boolean };

function ack(item: Item): void {
  item.settled = true;
  item.msg.ack();
}

/** The queue delivers this job again after `delaySeconds` (a redelivery: not the batch's retry, which is a new pass). */
function redeliver(item: Item, delaySeconds: number): void {
  item.settled = true;
  item.msg.retry({ delaySeconds });
}

/** What became of one claimed attempt: the report for its object and, when nothing was placed and the job must come again, after how long. */
type Dialled = { report: PlacedReport; retryAfterSec: number | null };

/** Past its deadline the object may already be settling this claim as lost: never dial it now. */
function tooLate(batchId: string, seq: number, attempt: number, ctx: DialContext): Dialled | null {
  if (Date.now() <= ctx.dialBy) return null;
  log("warn", "call.dial_too_late", { workspaceId: ctx.workspaceId, batchId, seq, attempt });
  return { report: { seq, attempt, kind: "too_late" }, retryAfterSec: 1 };
}

/**
 * The batch's pre-dial check, asked after the deadline check and before
 * the dial: the variables to dial with, or what became of the attempt
 * (skipped: cancelled; unasked: given back and tried again; too late:
 * the answer came after the dial deadline, given back as today).
 */
async function preDialCheck(
  env: Env,
  batchId: string,
  seq: number,
  attempt: number,
  ctx: DialContext,
): Promise<{ variables: Record<string, string> } | { done: Dialled }> {
  if (!ctx.preDial) return { variables: ctx.variables };
  const started = Date.now();
  const id = callId(batchId, seq);
  const decision = await askPreDial(env, ctx.preDial, { workspaceId: ctx.workspaceId, callId: id, attempt, to: ctx.to, variables: ctx.variables });
  count("engine.pre_dial_checks");
  observe("pre_dial.ms", Date.now() - started);
  const fields = { workspaceId: ctx.workspaceId, batchId, seq, attempt };
  if (decision.kind === "unasked") {
    log("error", "call.pre_dial_unasked", { ...fields, error: decision.error });
    return { done: { report: { seq, attempt, kind: "rate_limited" }, retryAfterSec: 5 } };
  }
  if (decision.kind === "skip") return { done: { report: { seq, attempt, kind: "skipped", error: decision.error, at: Date.now() }, retryAfterSec: null } };
  if (decision.note) log("warn", "call.pre_dial_failed_dialled", { ...fields, error: decision.note });
  // The answer may have come after the dial deadline: then the claim is given back, never dialled late.
  const late = tooLate(batchId, seq, attempt, ctx);
  return late ? { done: late } : { variables: decision.variables };
}

/** Places one claimed attempt (once the pre-dial check, if any, allows it) and says what became of it. */
async function dial(env: Env, batchId: string, claimed: Extract<ClaimResult, { kind: "claimed" }>): Promise<Dialled> {
  const { seq, attempt, dial: ctx } = claimed;
  const late = tooLate(batchId, seq, attempt, ctx);
  if (late) return late;
  const checked = await preDialCheck(env, batchId, seq, attempt, ctx);
  if ("done" in checked) return checked.done;
  const { variables } = checked;
  count("engine.dials");
  const result = await providerFor(env, ctx.agent.provider).dial({
    callId: callId(batchId, seq),
    batchId,
    seq,
    attempt,
    to: ctx.to,
    from: ctx.from,
    agentId: ctx.agent.id,
    voiceUrl: ctx.agent.voice_url,
    dialUrl: ctx.agent.dial_url,
    variables,
    record: ctx.agent.record === true,
  });
  if (result.kind === "placed" || result.kind === "unknown") await startedWebhook(env, batchId, seq, attempt, ctx);
  return { report: placedReport(seq, attempt, result), retryAfterSec: result.kind === "rate_limited" ? result.retryAfterSec : null };
}

/**
 * One line per claimed slice, not per call: at the workspace limit a line per dial was half the
 * Worker's log volume (Workers Logs bills per line). Each call is listed with what its provider said.
 */
function logDials(batchId: string, ctx: DialContext, dialled: Dialled[]): void {
  const calls = dialled.map(({ report: r }) => ({ seq: r.seq, attempt: r.attempt, result: r.kind }));
  log("info", "call.dialled", { workspaceId: ctx.workspaceId, batchId, provider: ctx.agent.provider, calls });
}

async function startedWebhook(env: Env, batchId: string, seq: number, attempt: number, ctx: DialContext): Promise<void> {
  const id = callId(batchId, seq);
  const data = { batchId, callId: id, attempt, phone_number: ctx.to, from: ctx.from, startTime: ctx.startedAt };
  await emitWebhook(env, ctx.workspaceId, "call.started", `${id}:${attempt}`, data, ctx.webhookUrl);
}

/**
 * One batch's jobs from one queue batch, each dialled at most once: the
 * batch's object gates and claims them together (one call), the claimed
 * ones are dialled at once, and what the providers said goes back in one
 * more call. Jobs the rate gate holds back wait here and go round again;
 * after MAX_GATE_WAIT_MS they are handed back to the scheduler.
 */
async function processBatchJobs(env: Env, batchId: string, items: Item[]): Promise<void> {
  const stub = env.BATCH_SCHEDULER.getByName(batchId);
  const bySeq = new Map(items.map((i) => [i.job.seq, i]));
  let pending = items.map((i) => i.job);
  let waited = 0;
  while (pending.length > 0) {
    const giveUp = waited >= MAX_GATE_WAIT_MS;
    const claims = await stub.claim(
      pending.map((j) => ({ seq: j.seq, attempt: j.attempt })),
      { giveUp },
    );
    const claimed = claims.filter((c): c is Extract<ClaimResult, { kind: "claimed" }> => c.kind === "claimed");
    // Between the gate (caller ID chosen, attempt counted by the contact policy) and the dial.
    if (claimed.length > 0) await killPoint(env, "dial.gated");
    const dialled = await Promise.all(claimed.map((c) => dial(env, batchId, c)));
    if (dialled.length > 0) {
      logDials(batchId, claimed[0]!.dial, dialled);
      await stub.placed(dialled.map((d) => d.report));
    }
    for (const d of dialled) {
      const item = bySeq.get(d.report.seq)!;
      if (d.retryAfterSec !== null) {
        // Nothing was placed: the object undid the claim; the queue's redelivery of this job claims it again.
        redeliver(item, Math.max(d.retryAfterSec, backoffSec(item.msg.attempts)));
      } else ack(item);
    }
    const waits = claims.filter((c): c is Extract<ClaimResult, { kind: "wait" }> => c.kind === "wait");
    for (const c of claims) if (c.kind !== "claimed" && c.kind !== "wait") ack(bySeq.get(c.seq)!);
    if (waits.length === 0) return;
    const ms = Math.min(...waits.map((w) => w.waitMs));
    await sleep(ms);
    waited += ms;
    pending = waits.map((w) => bySeq.get(w.seq)!.job);
  }
}

/** Call-job consumer: jobs grouped by batch; acks per message; a batch whose object failed is retried with backoff. */
export async function handleCallJobs(batch: MessageBatch<CallJob>, env: Env): Promise<void> {
  const groups = new Map<string, Item[]>();
  for (const msg of batch.messages) {
    const job = CallJobSchema.safeParse(msg.body);
    if (!job.success) {
      log("error", "call_job.malformed", { messageId: msg.id });
      msg.ack();
      continue;
    }
    const group = groups.get(job.data.batchId) ?? [];
    // Two messages for one call in one batch: the later one waits for a redelivery (it will find the claim).
    if (group.some((i) => i.job.seq === job.data.seq)) {
      msg.retry({ delaySeconds: 1 });
      continue;
    }
    group.push({ msg, job: job.data });
    groups.set(job.data.batchId, group);
  }
  await Promise.all(
    [...groups].map(async ([batchId, items]) => {
      try {
        await processBatchJobs(env, batchId, items);
      } catch (err) {
        // Acked messages stay acked; the rest come back and find their claims (or none).
        log("error", "call_job.error", { batchId, seqs: items.map((i) => i.job.seq), error: String(err) });
        for (const i of items) if (!i.settled) redeliver(i, backoffSec(i.msg.attempts));
      }
    }),
  );
}

/** Dead-letter consumer: a job that exhausted its retries fails its call with a clear error. */
export async function handleDeadCallJobs(batch: MessageBatch<CallJob>, env: Env): Promise<void> {
  const groups = new Map<string, { msg: Message<unknown>; job: CallJob }[]>();
  for (const msg of batch.messages) {
    const job = CallJobSchema.safeParse(msg.body);
    if (!job.success) {
      msg.ack();
      continue;
    }
    groups.set(job.data.batchId, [...(groups.get(job.data.batchId) ?? []), { msg, job: job.data }]);
  }
  for (const [batchId, items] of groups) {
    try {
      await env.BATCH_SCHEDULER.getByName(batchId).deadLetter(items.map((i) => ({ seq: i.job.seq, attempt: i.job.attempt })));
      for (const i of items) i.msg.ack();
    } catch (err) {
      log("error", "call_job.dead_letter_failed", { batchId, error: String(err) });
      for (const i of items) i.msg.retry();
    }
  }
}
