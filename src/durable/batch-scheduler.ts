import { DurableObject } from "cloudflare:workers";
import type { BatchRow } from "../db/batch.repo";
import {
  completeIfDone,
  deferCalls,
  dueCandidates,
  expiredActive,
  getBatchById,
  markDispatched,
  markProcessing,
  nextWakeUp,
  reclaimStaleDispatches,
  workspaceLimits,
  type Candidate,
} from "../db/engine.repo";
import type { CallingWindow } from "../domain/batch-options";
import { nextOpening } from "../domain/calling-window";
import { engineConfig } from "../engine-config";
import { log } from "../lib/log";
import { instrumentEnv } from "../lib/metrics";
import { enqueueCallJobs, type CallJob } from "../queue/call-job";
import { emitWebhook } from "../queue/webhook-event";
import { applyCallEvent } from "../services/call-events";
import { leaseId } from "./workspace-limiter";

/** What a batch's scheduler keeps in its own storage (it survives eviction; memory does not). */
export type SchedulerState = {
  batchId: string;
  workspaceId: string;
  /** Epoch ms at which the batch is due to start. */
  dueAt: number;
  phase: "armed" | "running" | "done";
  /** First attempts are handed out in file order; this is the next seq to look at. */
  cursor: number;
  lastStaleCheck: number;
};

export type ArmInput = Pick<SchedulerState, "batchId" | "workspaceId" | "dueAt">;

/** Jobs chosen by a tick but not yet confirmed sent: replayed first by the next tick. */
type Outbox = { jobs: CallJob[]; marked: boolean; replay?: boolean };

/** Ports the tick uses, replaceable in tests (a queue that fails half-way, a fixed clock). */
export type SchedulerPorts = { queue: Pick<Queue<CallJob>, "sendBatch">; now: () => number };

/** Most jobs handed to the queue in one tick. */
const MAX_SLICE = 100;
const POKE_COALESCE_MS = 100;

/**
 * One instance per batch (named by batch id); its alarm is the batch's
 * clock. A tick starts the batch when due, resolves calls whose lease ran
 * out, reserves capacity from the workspace's limiter, hands that many due
 * calls to the queue, and sets the alarm for the next thing that can
 * happen. All progress is in D1 and this object's storage, never in
 * memory, and every step is conditional, so a tick may run twice, or die
 * half-way and run again, without sending a job twice.
 */
export class BatchScheduler extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }

  ports: SchedulerPorts = { queue: this.env.CALL_QUEUE as Queue<CallJob>, now: () => Date.now() };

  /** Idempotent: arming an armed batch again keeps the first record and alarm. */
  async arm(input: ArmInput): Promise<SchedulerState> {
    const existing = await this.ctx.storage.get<SchedulerState>("state");
    if (existing) return existing;
    const state: SchedulerState = { ...input, phase: "armed", cursor: 0, lastStaleCheck: 0 };
    await this.ctx.storage.put("state", state);
    await this.ctx.storage.setAlarm(input.dueAt);
    return state;
  }

  async state(): Promise<SchedulerState | null> {
    return (await this.ctx.storage.get<SchedulerState>("state")) ?? null;
  }

  /** Something changed (a call ended, the batch resumed): look again now. `rewind` restarts the first-attempt scan. */
  async poke(rewind = false): Promise<void> {
    const state = await this.state();
    if (!state) return;
    if (rewind || state.phase === "done") await this.ctx.storage.put("state", { ...state, cursor: rewind ? 0 : state.cursor, phase: state.phase === "done" ? "running" : state.phase });
    const now = this.ports.now();
    if (state.phase === "armed" && state.dueAt > now) return;
    // Calls ending together (20/s at a 20/s limit) coalesce into one tick
    // per POKE_COALESCE_MS instead of one each.
    const target = now + POKE_COALESCE_MS;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > target) await this.ctx.storage.setAlarm(target);
  }

  /** Forgets the batch entirely: used when an upload is rolled back. */
  async discard(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const next = await this.tick();
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  private tickChain: Promise<unknown> = Promise.resolve();

  /**
   * One pass of the batch's clock; returns when to run again, or null.
   * Passes never overlap: an alarm and a test-driven tick (or two alarms
   * racing an eviction) queue behind each other in this instance.
   */
  tick(): Promise<number | null> {
    const run = this.tickChain.then(() => this.tickOnce());
    this.tickChain = run.catch(() => undefined);
    return run;
  }

  private async tickOnce(): Promise<number | null> {
    const state = await this.state();
    if (!state) return null;
    const now = this.ports.now();
    if (now < state.dueAt) return state.dueAt;

    await this.flushOutbox(state, true);
    const batch = await getBatchById(this.env.DB, state.batchId);
    if (!batch) return state.phase === "armed" && now - state.dueAt < 3_600_000 ? now + 5_000 : null;
    if (batch.status === "preparing") return now + 1_000;
    if (batch.status === "queued") {
      if (await markProcessing(this.env.DB, batch.id)) {
        log("info", "batch.started", { workspaceId: batch.workspace_id, batchId: batch.id });
        await emitWebhook(this.env, batch.workspace_id, "batch.started", `${batch.id}:${batch.pass}`, { batchId: batch.id, totalCalls: batch.total_calls });
      }
      await this.ctx.storage.put("state", { ...state, phase: "running" });
      return this.tickOnce();
    }
    if (batch.status !== "processing") {
      // paused: resume pokes us; cancelled/completed/failed: nothing more to do
      await this.ctx.storage.put("state", { ...state, phase: batch.status === "paused" ? "running" : "done" });
      return null;
    }

    const cfg = engineConfig(this.env);
    await this.resolveExpired(batch, now);
    if (now - state.lastStaleCheck >= cfg.dispatchStaleMs) {
      const stale = await reclaimStaleDispatches(this.env.DB, batch.id, now - cfg.dispatchStaleMs);
      if (stale.length) {
        await this.env.WORKSPACE_LIMITER.getByName(batch.workspace_id).release(stale.map((s) => leaseId(batch.id, s.seq, s.attempt)));
        log("warn", "batch.stale_dispatches_reclaimed", { workspaceId: batch.workspace_id, batchId: batch.id, count: stale.length });
      }
      state.lastStaleCheck = now;
      await this.ctx.storage.put("state", state);
    }

    const dispatch = await this.dispatch(batch, state, now);
    const fresh = await getBatchById(this.env.DB, batch.id);
    if (fresh && fresh.waiting_count === 0 && fresh.active_count === 0) {
      if (await completeIfDone(this.env.DB, batch.id, now)) {
        log("info", "batch.completed", { workspaceId: batch.workspace_id, batchId: batch.id, total: fresh.total_calls });
        await emitWebhook(this.env, batch.workspace_id, "batch.completed", `${batch.id}:${fresh.pass}`, {
          batchId: batch.id,
          totalCalls: fresh.total_calls,
          completed: fresh.completed_count,
          failed: fresh.failed_count,
          cancelled: fresh.cancelled_count,
          completedTime: now,
        });
      }
      await this.ctx.storage.put("state", { ...state, phase: "done" });
      return null;
    }
    const wake = await nextWakeUp(this.env.DB, batch.id);
    const candidates = [wake.due, wake.lease, wake.dispatched === null ? null : wake.dispatched + cfg.dispatchStaleMs];
    if (dispatch.moreDue) candidates.push(now + dispatch.retryAfterMs);
    // Calls in flight end with a poke; this is the safety net if a poke is lost.
    if (fresh && fresh.active_count > 0) candidates.push(now + cfg.heartbeatMs);
    return Math.max(now + 10, Math.min(...candidates.filter((t): t is number => t !== null)));
  }

  /** Active calls whose lease ran out without a final status: failed, through the normal outcome path. */
  private async resolveExpired(batch: BatchRow, now: number): Promise<void> {
    for (const c of await expiredActive(this.env.DB, batch.id, now)) {
      const r = await applyCallEvent(this.env, {
        kind: "final",
        batchId: batch.id,
        seq: c.seq,
        attempt: c.attempts,
        outcome: "failed",
        at: now,
        error: "no final status arrived from the provider before the call's lease expired",
      });
      if (r === "applied") log("warn", "call.lease_expired", { workspaceId: batch.workspace_id, batchId: batch.id, seq: c.seq, attempt: c.attempts });
    }
  }

  private async dispatch(batch: BatchRow, state: SchedulerState, now: number): Promise<{ moreDue: boolean; retryAfterMs: number }> {
    const limits = await workspaceLimits(this.env.DB, batch.workspace_id);
    if (!limits) return { moreDue: false, retryAfterMs: 0 };
    const want = Math.min(MAX_SLICE, Math.max(1, limits.callsPerSecond * 2), limits.maxConcurrentCalls);
    const columns = JSON.parse(batch.columns) as string[];
    const window = batch.calling_window ? (JSON.parse(batch.calling_window) as CallingWindow) : null;
    const { callbacks, firsts } = await dueCandidates(this.env.DB, batch.id, now, state.cursor, want, window ? columns.indexOf("timezone") : -1);

    let picked: Candidate[] = [...callbacks, ...firsts].slice(0, want);
    const pickedFirsts = firsts.filter((f) => picked.includes(f));
    if (window) {
      const fallbackTz = (await this.workspaceTimezone(batch.workspace_id)) ?? "UTC";
      const closed: { seq: number; dueAt: number }[] = [];
      picked = picked.filter((c) => {
        const tz = window.timezone === "recipient" ? c.tz || fallbackTz : window.timezone;
        const opens = nextOpening(window, tz, now);
        if (opens > now) closed.push({ seq: c.seq, dueAt: opens });
        return opens <= now;
      });
      await deferCalls(this.env.DB, batch.id, closed);
    }
    const more = callbacks.length + firsts.length >= want;
    if (picked.length === 0) {
      await this.advanceCursor(state, pickedFirsts, null);
      return { moreDue: more, retryAfterMs: 1000 };
    }

    const jobs = picked.map((c) => ({ batchId: batch.id, seq: c.seq, attempt: c.attempts + 1 }));
    const limiter = this.env.WORKSPACE_LIMITER.getByName(batch.workspace_id);
    const cfg = engineConfig(this.env);
    const grant = await limiter.reserve({
      batchId: batch.id,
      leaseIds: jobs.map((j) => leaseId(j.batchId, j.seq, j.attempt)),
      batchCap: batch.max_concurrent_calls,
      limits,
      reserveTtlMs: cfg.reserveTtlMs,
    });
    const granted = new Set(grant.granted);
    const chosen = jobs.filter((j) => granted.has(leaseId(j.batchId, j.seq, j.attempt)));
    const firstRefused = jobs.find((j) => !granted.has(leaseId(j.batchId, j.seq, j.attempt)) && pickedFirsts.some((f) => f.seq === j.seq));
    await this.advanceCursor(state, pickedFirsts, firstRefused?.seq ?? null);
    if (chosen.length > 0) {
      // Intent first: if this tick dies after marking, the next one sends these, not new ones.
      await this.ctx.storage.put("outbox", { jobs: chosen, marked: false } satisfies Outbox);
      await this.flushOutbox(state);
    }
    return { moreDue: more || chosen.length < jobs.length, retryAfterMs: chosen.length < jobs.length ? grant.retryAfterMs : 1000 };
  }

  /**
   * Moves the first-attempt cursor past the first attempts this tick looked
   * at (sent, or deferred by the calling window), but not past one the
   * limiter refused: that one is looked at again next time.
   */
  private async advanceCursor(state: SchedulerState, looked: Candidate[], refusedSeq: number | null): Promise<void> {
    const last = looked.at(-1);
    if (!last) return;
    state.cursor = refusedSeq ?? last.seq + 1;
    await this.ctx.storage.put("state", state);
  }

  /** Marks the outbox's attempts dispatched (conditionally) and sends them, a chunk at a time, forgetting each chunk once sent. */
  private async flushOutbox(state: SchedulerState, replay = false): Promise<void> {
    const stored = await this.ctx.storage.get<Outbox>("outbox");
    if (!stored || stored.jobs.length === 0) return;
    const outbox = { ...stored, replay };
    let jobs = outbox.jobs;
    if (!outbox.marked) {
      // `replay`: a tick that died may already have marked some of these.
      const marked = await markDispatched(this.env.DB, state.batchId, jobs, this.ports.now(), outbox.replay === true);
      const dropped = jobs.filter((j) => !marked.has(j.seq));
      if (dropped.length) {
        await this.env.WORKSPACE_LIMITER.getByName(state.workspaceId).release(dropped.map((j) => leaseId(j.batchId, j.seq, j.attempt)));
      }
      jobs = jobs.filter((j) => marked.has(j.seq));
      await this.ctx.storage.put("outbox", { jobs, marked: true } satisfies Outbox);
    }
    while (jobs.length > 0) {
      const chunk = jobs.slice(0, 100);
      await enqueueCallJobs(this.ports.queue, chunk);
      jobs = jobs.slice(chunk.length);
      await this.ctx.storage.put("outbox", { jobs, marked: true } satisfies Outbox);
    }
    await this.ctx.storage.delete("outbox");
  }

  private async workspaceTimezone(workspaceId: string): Promise<string | null> {
    const row = await this.env.DB.prepare("SELECT timezone FROM workspaces WHERE id = ?1").bind(workspaceId).first<{ timezone: string | null }>();
    return row?.timezone ?? null;
  }
}

