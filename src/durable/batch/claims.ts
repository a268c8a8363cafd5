import type { CallRow, DialConfirmation } from "../../db/call-ledger";
import { MORE_PHONE_COLUMNS } from "../../domain/csv";
import { isTestSeq } from "../../domain/test-call";
import { DIAL_CONFIRM_MS, DIAL_DEADLINE_MS, engineConfig } from "../../engine-config";
import { leaseId } from "../../lib/lease";
import { log } from "../../lib/log";
import { count } from "../../lib/metrics";
import type { StartResult } from "../workspace-limiter";
import { poke } from "./clock";
import type { BatchContext } from "./context";
import type { AttemptRef, BatchConfig, CallEvent, ClaimResult, PlacedReport, SchedulerState } from "./contract";
import { flushReleases, release } from "./effects";
import { applyLocal } from "./results";
import * as testCalls from "./test-call-reports";

// The consumer's side: a queue batch's jobs are claimed (waiting → active,
// exactly once), the provider's answer to each dial is recorded, and jobs
// the queue gave up on (dead-lettered) are closed without a dial.

/** Columns the service itself reads to place the call (the recipient's numbers, its zone); every other column (first_name, last_name, email included) is the agent's. */
const KNOWN_COLUMNS = new Set<string>(["phone_number", ...MORE_PHONE_COLUMNS, "timezone"]);

/**
 * One queue batch's jobs: each passes the workspace's rate gate (one
 * limiter call for all), and those admitted are claimed with the instant
 * the gate counted as their start. The gate comes first and the claim
 * re-checks the call and the batch after it, so a cancel or pause that
 * lands meanwhile is honoured. Jobs the gate holds back come back with how
 * long to wait; a job whose reservation lapsed (or `giveUp`) is handed back
 * to the scheduler.
 */
export async function claim(c: BatchContext, state: SchedulerState, jobs: AttemptRef[], giveUp: boolean): Promise<ClaimResult[]> {
  const config = await c.config();
  const ws = await c.workspace(state);
  const results = new Map<number, ClaimResult>();
  const freed: AttemptRef[] = [];

  // Settled without the gate: unknown, already claimed (a redelivery), or given up.
  const toGate: AttemptRef[] = [];
  // When each job was sent (or last heard of at the gate): how long the claimed ones waited, for admission.
  const sentAt = new Map<number, number>();
  // Each call read once: its number and values do not change while its attempt is dispatched (the claim itself re-checks its state).
  const rows = new Map<number, CallRow>();
  for (const j of jobs) {
    const row = c.ledger.call(j.seq);
    if (row) rows.set(j.seq, row);
    if (row?.dispatched_at) sentAt.set(j.seq, row.dispatched_at);
    if (!row) results.set(j.seq, { ...j, kind: "unknown" });
    else if (row.attempts >= j.attempt) results.set(j.seq, { ...j, kind: "already" });
    else if (giveUp || !ws) {
      c.ledger.undispatch(j.seq, j.attempt);
      freed.push(j);
      results.set(j.seq, { ...j, kind: "handed_back" });
    } else toGate.push(j);
  }

  const gates = toGate.length
    ? await c.env.WORKSPACE_LIMITER.getByName(state.workspaceId).startMany({
        leaseIds: toGate.map((j) => leaseId(state.batchId, j.seq, j.attempt)),
        callsPerSecond: ws!.callsPerSecond,
        callLeaseMs: engineConfig(c.env).callLeaseMs,
        phones: toGate.map((j) => dialledNumber(rows.get(j.seq)!)),
        pool: { workspaceId: state.workspaceId, agentId: config.agent.id },
        contactPolicy: ws!.contactPolicy,
      })
    : [];
  toGate.forEach((j, i) => {
    const result = afterGate(c, state, config, ws?.webhookUrl ?? null, j, rows.get(j.seq)!, gates[i]!, freed);
    results.set(j.seq, result);
  });
  const claimed = jobs.filter((j) => results.get(j.seq)?.kind === "claimed").map((j) => j.seq);
  c.feed?.changed(claimed);
  // The pace the queue's jobs are taken at: what the batch may keep on it (dispatch, domain/admission).
  const now = c.now();
  const waits = claimed.flatMap((seq) => (sentAt.has(seq) ? [now - sentAt.get(seq)!] : []));
  c.claims.note(claimed.length, now, waits.length ? Math.min(...waits) : null);
  // Jobs waiting at the gate are alive in some consumer: not stale.
  const waiting = jobs.filter((j) => results.get(j.seq)?.kind === "wait");
  if (waiting.length > 0) c.ledger.touchDispatched(waiting, c.now());
  if (freed.length > 0) {
    release(c, state.batchId, freed);
    await flushReleases(c);
  }
  if (freed.length > 0 || [...results.values()].some((r) => r.kind === "handed_back")) await poke(c);
  return jobs.map((j) => results.get(j.seq)!);
}

/** One job past the gate: claimed if the gate admitted it and the call and batch still allow it. */
function afterGate(
  c: BatchContext,
  state: SchedulerState,
  config: BatchConfig,
  webhookUrl: string | null,
  j: AttemptRef,
  row: CallRow,
  gate: StartResult,
  freed: AttemptRef[],
): ClaimResult {
  if (!gate.ok && "noLease" in gate) {
    // The reservation lapsed: hand the attempt back untouched.
    c.ledger.undispatch(j.seq, j.attempt);
    return { ...j, kind: "handed_back" };
  }
  if (!gate.ok && "hold" in gate) {
    // The contact policy, or a pool with no number that may call: the attempt waits in the ledger, saying why.
    c.ledger.holdDispatched(j.seq, j.attempt, gate.hold.until, gate.hold.reason);
    freed.push(j);
    return { ...j, kind: "handed_back" };
  }
  if (!gate.ok) return { ...j, kind: "wait", waitMs: gate.waitMs };
  // Until the provider answers, the attempt holds a short lease: if its claimer dies, the tick finds it within DIAL_CONFIRM_MS.
  const claimedAt = Math.max(gate.at, c.now());
  const from = gate.from ?? config.agent.from_number;
  if (c.ledger.claim(j.seq, j.attempt, gate.at, claimedAt + DIAL_CONFIRM_MS, from)) {
    count("engine.claims");
    const dial = {
      to: dialledNumber(row),
      from,
      startedAt: gate.at,
      dialBy: claimedAt + DIAL_DEADLINE_MS,
      agent: config.agent,
      variables: variablesOf(config.columns, row),
      webhookUrl,
      workspaceId: state.workspaceId,
      preDial: config.preDial ?? null,
    };
    return { ...j, kind: "claimed", dial };
  }
  // Not claimable: a twin has it, or the batch is not running. A paused batch gets the attempt back for later.
  const status = c.ledger.head()!.status;
  if (status === "paused" || status === "queued") c.ledger.undispatch(j.seq, j.attempt);
  const now = c.ledger.call(j.seq)!;
  if (!(now.status === "active" && now.attempts === j.attempt)) freed.push(j);
  return { ...j, kind: "not_claimable", batchStatus: status };
}

/** What the provider said about claimed attempts, one call per queue batch. */
export async function placed(c: BatchContext, state: SchedulerState, reports: PlacedReport[]): Promise<void> {
  const finals: CallEvent[] = [];
  const skipped: AttemptRef[] = [];
  // The dials that went out, confirmed together (one statement for the slice).
  const confirmed: DialConfirmation[] = [];
  for (const r of reports) {
    if (isTestSeq(r.seq)) {
      await testCalls.placed(c, state, r);
      continue;
    }
    switch (r.kind) {
      case "placed":
        confirmed.push({ seq: r.seq, attempt: r.attempt, providerCallId: r.providerCallId });
        break;
      case "unknown":
        // Never re-sent: the status webhook or the lease expiry settles this attempt.
        confirmed.push({ seq: r.seq, attempt: r.attempt, error: r.error });
        break;
      case "unreachable":
        // Never re-sent, and never given the call's lease: unless a status report confirms it,
        // the tick settles it when the claim's DIAL_CONFIRM_MS lease runs out, and its slot is free.
        c.ledger.recordUnreachable(r.seq, r.attempt, r.error);
        break;
      case "rate_limited":
      case "too_late":
        // Nothing was placed: undo the claim (the lease stays reserved); the queue retries the job.
        c.ledger.unclaim(r.seq, r.attempt);
        break;
      case "rejected":
        finals.push({ kind: "final", batchId: state.batchId, seq: r.seq, attempt: r.attempt, outcome: "failed", at: r.at, error: r.error });
        break;
      case "skipped":
        // The pre-dial check said no: never dialled, so the call ends here and its slot is free at once.
        if (c.ledger.cancelClaimed(r.seq, r.attempt, r.error, r.at)) skipped.push(r);
    }
  }
  c.ledger.confirmDials(confirmed, engineConfig(c.env).callLeaseMs);
  if (skipped.length > 0) {
    count("engine.pre_dial_skips", skipped.length);
    log("info", "call.pre_dial_skipped", { batchId: state.batchId, seqs: skipped.map((r) => r.seq) });
    release(c, state.batchId, skipped);
    c.feed?.changed(skipped.map((r) => r.seq));
    await flushReleases(c);
    await poke(c);
  }
  if (finals.length > 0) {
    await applyLocal(c, state, finals);
    await flushReleases(c);
  }
}

/** Jobs the queue dead-lettered after its last delivery: their calls fail with a clear error, never dialled. */
export async function deadLetter(c: BatchContext, state: SchedulerState, jobs: AttemptRef[]): Promise<void> {
  const error = "The call could not be dispatched: its job failed on every retry.";
  const now = c.now();
  for (const j of jobs) {
    // A job that died after its claim but before any dial is first put back to waiting, then closed.
    if (!c.ledger.closeUndialled(j.seq, j.attempt, "failed", "failed", error, now) && c.ledger.unclaim(j.seq, j.attempt)) {
      c.ledger.closeUndialled(j.seq, j.attempt, "failed", "failed", error, now);
    }
    log("error", "call_job.dead_lettered", { batchId: state.batchId, seq: j.seq, attempt: j.attempt });
  }
  release(c, state.batchId, jobs);
  await flushReleases(c);
  await poke(c);
}

/** The number the attempt calls: the one dispatch chose among the recipient's, else its only one. */
function dialledNumber(row: CallRow): string {
  return row.dial_to ?? row.phone_number;
}

/**
 * The dial's dynamic variables: the call's custom CSV columns plus
 * first_name, last_name and email when the file has them, verbatim, so the
 * agent can greet the person. The number and the zone are the dial's own.
 */
export function variablesOf(columns: string[], row: CallRow): Record<string, string> {
  const values = JSON.parse(row.metadata) as string[];
  // Built by fromEntries (own data properties): a column named __proto__ is a variable like any
  // other, not a prototype setter — and the object stays plain, so it crosses RPC to the consumer.
  return Object.fromEntries(columns.flatMap((col, i) => (KNOWN_COLUMNS.has(col) ? [] : [[col, values[i] ?? ""]])));
}
