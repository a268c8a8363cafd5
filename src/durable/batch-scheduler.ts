import { DurableObject } from "cloudflare:workers";
import { batchStatus, summaryVersion, writeBatchSummary } from "../db/batch.repo";
import { CallLedger, isoMs, type CallRow, type Candidate, type LedgerBatch } from "../db/call-ledger";
import { dncAmong } from "../db/dnc.repo";
import { workspaceEngineInfo, type WorkspaceEngineInfo } from "../db/workspace.repo";
import type { CallingWindow, SmartCallbackConfig } from "../domain/batch-options";
import { nextOpening } from "../domain/calling-window";
import { scanCsv } from "../domain/csv";
import { connected, failureReason, nextStep, timeScale } from "../domain/outcome";
import { MIN_WAKE_GAP_MS, nextWake } from "../domain/wake";
import {
  DIAL_CONFIRM_MS,
  DIAL_DEADLINE_MS,
  engineConfig,
  MAX_SLICE,
  POKE_COALESCE_MS,
  SUMMARY_FLUSH_MS,
  UNPUBLISHED_RECHECK_MS,
  WORKSPACE_REFRESH_MS,
} from "../engine-config";
import { callId } from "../lib/ids";
import { leaseId } from "../lib/lease";
import { killPoint } from "../lib/fault";
import { log } from "../lib/log";
import { count, instrumentEnv, observe } from "../lib/metrics";
import { enqueueCallJobs, type CallJob } from "../queue/call-job";
import { findLostDial } from "../telephony/reconcile";
import { statusBody } from "../views/batch-status";
import { changedCalls, readCallPage, recentCallRows, type CallView } from "../views/call";
import { ProgressFeed } from "./progress-feed";
import { emitWebhook, type WebhookEventType } from "../queue/webhook-event";
import type { BatchStatus, CallStatus } from "../domain/vocabulary";
import type { ApplyResult, CallEvent } from "../domain/call-event";
import type { Provider } from "../domain/vocabulary";
import { RETRYABLE_OUTCOMES } from "../domain/vocabulary";

/** The agent a batch dials through, as it was when the batch was created. */
export type DialAgent = { id: string; provider: Provider; from_number: string | null; voice_url: string | null; dial_url: string | null };

/** Everything intake hands the object: the batch's rules and where its file is. */
export type BatchConfig = {
  columns: string[];
  agent: DialAgent;
  smartCallbackConfig: SmartCallbackConfig | null;
  callingWindow: CallingWindow | null;
  maxConcurrentCalls: number | null;
  csvKey: string;
  defaultCountry: string;
  totalCalls: number;
};

export type ArmInput = {
  batchId: string;
  workspaceId: string;
  /** Epoch ms at which the batch is due to start. */
  dueAt: number;
  config: BatchConfig;
  /** Seqs intake found on the do-not-call list: left out when the calls are materialised. */
  suppressed: number[];
};

/** What the object keeps in storage besides its ledger (it survives eviction; memory does not). */
export type SchedulerState = {
  batchId: string;
  workspaceId: string;
  dueAt: number;
  /** Intake finished and D1 shows the batch: it may start. */
  published: boolean;
  /** Every call of the file is in the ledger. */
  materialised: boolean;
  /** Rows of the file already in the ledger: a resumed materialisation skips them. */
  materialisedRows: number;
  /** First attempts are handed out in file order; this is the next seq to look at. */
  cursor: number;
  /** Ledger version last written to the D1 summary, and when. */
  summaryVersion: number;
  summaryAt: number;
  /** batch.cancelled was handed to the webhook queue (absent in objects made before it existed: read as false). */
  cancelAnnounced?: boolean;
};

/** GET /v1/admin/batches/{id}/engine: the object's side of a batch. */
export type EngineState = {
  status: BatchStatus;
  version: number;
  summaryVersion: number;
  waiting: number;
  active: number;
  alarmAt: string | null;
  published: boolean;
  materialised: boolean;
};

/** Ports the tick uses, replaceable in tests (a queue that fails half-way, a fixed clock). */
export type SchedulerPorts = { queue: Pick<Queue<CallJob>, "sendBatch">; now: () => number };

export type DialContext = {
  to: string;
  /** The start the rate gate counted: the call's startTime. */
  startedAt: number;
  /** Epoch ms after which this attempt must not be dialled: the claim is given back instead (DIAL_DEADLINE_MS). */
  dialBy: number;
  agent: DialAgent;
  variables: Record<string, string>;
  webhookUrl: string | null;
  workspaceId: string;
};

export type ClaimResult =
  | { seq: number; attempt: number; kind: "claimed"; dial: DialContext }
  | { seq: number; attempt: number; kind: "already" | "unknown" | "handed_back" }
  | { seq: number; attempt: number; kind: "wait"; waitMs: number }
  | { seq: number; attempt: number; kind: "not_claimable"; batchStatus: string };

/** What the provider said about a claimed attempt. */
export type PlacedReport =
  | { seq: number; attempt: number; kind: "placed"; providerCallId: string }
  | { seq: number; attempt: number; kind: "unknown"; error: string }
  /** No response at all (connection refused, DNS, TLS): recorded, not confirmed; settled within the claim's short lease. */
  | { seq: number; attempt: number; kind: "unreachable"; error: string }
  | { seq: number; attempt: number; kind: "rejected"; error: string; at: number }
  | { seq: number; attempt: number; kind: "rate_limited" }
  /** The claim reached the consumer after its dial deadline: nothing was dialled. */
  | { seq: number; attempt: number; kind: "too_late" };

export type ControlResult<T> = { ok: true; value: T } | { ok: false; status: BatchStatus | "gone" };

export type Progress = LedgerBatch & { recent: CallRow[] };

const KNOWN_COLUMNS = new Set(["phone_number", "first_name", "last_name", "email", "timezone"]);

/**
 * One instance per batch (named by batch id). It owns the batch's calls in
 * its own SQLite (the ledger) and its alarm is the batch's clock: it
 * materialises the calls from the stored CSV, starts the batch when due,
 * resolves calls whose lease ran out, reserves capacity from the
 * workspace's limiter, hands that many due calls to the queue, applies
 * claims and status reports, and keeps the batch's D1 summary current.
 * Every step is a conditional transition on the ledger, so a tick may run
 * twice, or die half-way and run again, without sending a job twice.
 */
export class BatchScheduler extends DurableObject<Env> {
  ports: SchedulerPorts;
  private ledgerCache: CallLedger | null = null;
  private materialising: Promise<void> | null = null;
  private workspaceCache: { info: WorkspaceEngineInfo; at: number } | null = null;
  private tickChain: Promise<unknown> = Promise.resolve();
  /** Ticks in a row that changed nothing (memory only: a new instance starts eager). */
  private idleTicks = 0;
  /** The live event stream's subscribers (memory only: a client whose stream drops reconnects). */
  private feed: ProgressFeed | null = null;
  /** Set by discard: work still running in this instance (a materialisation) must not write the batch back. */
  private discarded = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.ports = { queue: this.env.CALL_QUEUE as Queue<CallJob>, now: () => Date.now() };
  }

  private get ledger(): CallLedger {
    this.ledgerCache ??= new CallLedger(this.ctx.storage.sql);
    return this.ledgerCache;
  }

  /** GET /events (from the Worker's route, after it checked the caller may see this batch): the live event stream. */
  override async fetch(req: Request): Promise<Response> {
    if (new URL(req.url).pathname !== "/events") return new Response("not found", { status: 404 });
    const state = await this.ready();
    if (!state || !this.ledger.batch()) return new Response("not found", { status: 404 });
    const { columns } = await this.config();
    this.feed ??= new ProgressFeed({
      status: () => {
        const b = this.ledger.batch();
        return b ? statusBody(state.batchId, b, columns, recentCallRows(this.ledger, 10)) : null;
      },
      // Metadata excerpts only: what a subscriber is sent stays small however wide the file.
      calls: (seqs) => changedCalls(this.ledger, state.batchId, columns, seqs),
      version: () => this.ledger.batch()?.version ?? 0,
    });
    return this.feed.subscribe();
  }

  // ---- lifecycle -------------------------------------------------------------

  /** Idempotent: arming an armed batch again keeps the first record. Materialising starts at once. */
  async arm(input: ArmInput): Promise<SchedulerState> {
    const existing = await this.state();
    if (existing) return existing;
    this.discarded = false;
    const state: SchedulerState = {
      batchId: input.batchId,
      workspaceId: input.workspaceId,
      dueAt: input.dueAt,
      published: false,
      materialised: false,
      materialisedRows: 0,
      cursor: 0,
      summaryVersion: 0,
      summaryAt: 0,
    };
    this.ledger.createBatch("queued");
    this.ledger.setSuppressed(input.suppressed);
    await this.ctx.storage.put({ config: input.config, state });
    await this.ctx.storage.setAlarm(Date.now());
    return state;
  }

  /** Intake published the batch in D1: it may start when due. */
  async publish(): Promise<void> {
    const state = await this.state();
    if (!state || state.published) return;
    await this.patchState({ published: true });
    await this.poke();
  }

  async state(): Promise<SchedulerState | null> {
    return (await this.ctx.storage.get<SchedulerState>("state")) ?? null;
  }

  private async config(): Promise<BatchConfig> {
    const config = await this.ctx.storage.get<BatchConfig>("config");
    if (!config) throw new Error("batch object has no config");
    return config;
  }

  /**
   * Changes some fields of the stored state, read fresh: never a copy taken
   * before an await, which could undo what another call wrote meanwhile
   * (a publish landing while the calls are being materialised).
   */
  private async patchState(patch: Partial<SchedulerState>): Promise<SchedulerState> {
    if (this.discarded) throw new Error("the batch was discarded");
    const current = await this.state();
    if (!current) throw new Error("the batch has no state");
    const next = { ...current, ...patch };
    await this.ctx.storage.put("state", next);
    return next;
  }

  /** Something changed (a call ended, the batch resumed): look again soon. `rewind` restarts the first-attempt scan. */
  async poke(rewind = false): Promise<void> {
    const state = await this.state();
    if (!state) return;
    if (rewind) await this.patchState({ cursor: 0 });
    const now = this.ports.now();
    // Calls ending together coalesce into one tick per POKE_COALESCE_MS instead of one each.
    await this.wakeBy(this.ledger.batch()?.status === "queued" ? Math.max(state.dueAt, now + POKE_COALESCE_MS) : now + POKE_COALESCE_MS);
  }

  /** The alarm fires no later than `at` (an earlier one is kept). */
  private async wakeBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The clock for a transition about to be committed, set before it: a
   * process that dies after the transition and before its D1 summary or
   * webhook still leaves an alarm, and the tick it fires writes the summary
   * and moves the batch. An alarm that finds nothing to do is harmless.
   */
  private async armFor(to: BatchStatus, state: SchedulerState, rewind: boolean): Promise<void> {
    if (rewind) await this.patchState({ cursor: 0 });
    const now = this.ports.now();
    await this.wakeBy(to === "queued" ? Math.max(state.dueAt, now + POKE_COALESCE_MS) : now + POKE_COALESCE_MS);
  }

  /**
   * The cron's safety net: a batch that may still act but has no alarm
   * (its alarm gave up after repeated failures, or was lost) gets one.
   * Returns whether it had to be set.
   */
  async ensureAlarm(): Promise<{ alarmRestored: boolean; summaryRepaired: boolean }> {
    const state = await this.state();
    const b = state ? this.ledger.batch() : null;
    if (!state || !b) return { alarmRestored: false, summaryRepaired: false };
    // The object is the truth: a summary left behind by a process that died mid-transition is written now.
    const summaryRepaired = state.materialised && (await this.syncSummary(true, true));
    if (summaryRepaired) log("warn", "batch.summary_repaired", { workspaceId: state.workspaceId, batchId: state.batchId, status: b.status });
    const live = b.status === "queued" || b.status === "processing" || !state.materialised;
    if (!live && this.ledger.releases().length === 0 && !this.announcePending(state, b)) return { alarmRestored: false, summaryRepaired };
    if ((await this.ctx.storage.getAlarm()) !== null) return { alarmRestored: false, summaryRepaired };
    await this.ctx.storage.setAlarm(b.status === "queued" && state.materialised ? Math.max(Date.now(), state.dueAt) : Date.now());
    log("warn", "batch.alarm_restored", { workspaceId: state.workspaceId, batchId: state.batchId, status: b.status });
    return { alarmRestored: true, summaryRepaired };
  }

  /** What an operator needs to see whether the batch's clock and summary are sound (GET /v1/admin/batches/{id}/engine). */
  async engineState(): Promise<EngineState | null> {
    const state = await this.state();
    const b = state ? this.ledger.batch() : null;
    if (!state || !b) return null;
    const alarm = await this.ctx.storage.getAlarm();
    return {
      status: b.status,
      version: b.version,
      summaryVersion: state.summaryVersion,
      waiting: b.waiting_count,
      active: b.active_count,
      alarmAt: alarm === null ? null : new Date(alarm).toISOString(),
      published: state.published,
      materialised: state.materialised,
    };
  }

  /** Forgets the batch entirely: used when an upload is rolled back. */
  async discard(): Promise<void> {
    this.discarded = true;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.ledgerCache = null;
    this.workspaceCache = null;
  }

  // ---- materialising -----------------------------------------------------------

  /** Every read and transition waits for the ledger to hold the whole file. */
  private async ready(): Promise<SchedulerState | null> {
    const state = await this.state();
    if (!state || state.materialised) return state;
    this.materialising ??= this.materialise().finally(() => {
      this.materialising = null;
    });
    await this.materialising;
    return this.state();
  }

  /**
   * Reads the stored CSV with the same scan intake ran and writes its valid
   * rows into the ledger, a slice at a time with a cursor. A restart rescans
   * the file and skips the slices already written; seq is the key, so no
   * row is ever written twice.
   */
  private async materialise(): Promise<void> {
    const state = await this.state();
    if (!state || state.materialised) return;
    const config = await this.config();
    const started = Date.now();
    const object = await this.env.CSV_BUCKET.get(config.csvKey);
    if (!object) return this.failBatch(state, "the stored CSV is missing");
    let rowsSeen = 0;
    let cursor = state.materialisedRows;
    const scan = await scanCsv(object.body, { defaultCountry: config.defaultCountry, stopOnInvalid: false }, async (json, rows) => {
      const first = rowsSeen;
      rowsSeen += rows;
      if (first + rows <= cursor) return;
      if (this.discarded) throw new Error("the batch was discarded");
      this.ledger.insertSlice(json);
      cursor = Math.max(cursor, first + rows);
      await this.patchState({ materialisedRows: cursor });
    });
    if (!scan.ok) return this.failBatch(state, `the stored CSV cannot be read: ${scan.message}`);
    const total = this.ledger.countCalls();
    if (total !== config.totalCalls) {
      return this.failBatch(state, `the stored CSV yields ${total} calls where intake counted ${config.totalCalls}`);
    }
    this.ledger.setTotals(total);
    await this.patchState({ materialised: true, materialisedRows: cursor });
    const ms = Date.now() - started;
    observe("materialise.ms", ms);
    log("info", "batch.materialised", { workspaceId: state.workspaceId, batchId: state.batchId, calls: total, ms });
  }

  private async failBatch(state: SchedulerState, reason: string): Promise<void> {
    if (this.discarded) return;
    log("error", "batch.failed", { workspaceId: state.workspaceId, batchId: state.batchId, reason });
    this.ledger.setStatus(["queued", "processing", "paused"], "failed", { completedTime: Date.now() });
    await this.patchState({ materialised: true });
    await this.syncSummary(true);
  }

  // ---- the clock ---------------------------------------------------------------

  override async alarm(): Promise<void> {
    const next = await this.tick();
    // A poke during this tick may already have set an earlier alarm: keep the earlier one.
    const pending = await this.ctx.storage.getAlarm();
    if (next !== null && (pending === null || next < pending)) await this.ctx.storage.setAlarm(next);
  }

  /**
   * One pass of the batch's clock; returns when to run again, or null.
   * Passes never overlap: an alarm and a test-driven tick (or two alarms
   * racing an eviction) queue behind each other in this instance.
   */
  tick(): Promise<number | null> {
    const run = this.tickChain.then(async () => {
      // Materialising (once per batch) is measured on its own, not as a tick.
      await this.ready();
      const started = Date.now();
      try {
        return await this.tickOnce();
      } finally {
        this.feed?.changed();
        // Workers' clocks advance at I/O, so this is the tick's wall time across its awaits.
        observe("tick.ms", Date.now() - started);
      }
    });
    this.tickChain = run.catch(() => undefined);
    return run;
  }

  private async tickOnce(): Promise<number | null> {
    let state = await this.ready();
    if (!state) return null;
    const now = this.ports.now();
    if (now < state.dueAt) return state.dueAt;
    await this.flushOutbox();

    if (!state.published) {
      const status = await batchStatus(this.env.DB, state.batchId);
      if (status === null) return null; // rolled back: discard follows
      if (status === "preparing") return Date.now() + UNPUBLISHED_RECHECK_MS;
      state = await this.patchState({ published: true });
    }

    const status = this.ledger.batch()!.status;
    if (status === "queued") {
      if (this.ledger.setStatus(["queued"], "processing")) {
        log("info", "batch.started", { workspaceId: state.workspaceId, batchId: state.batchId });
        await this.syncSummary(true);
        const b = this.ledger.batch()!;
        await this.emit("batch.started", `${state.batchId}:${b.pass}`, { batchId: state.batchId, totalCalls: b.total_calls });
      }
      return this.tickOnce();
    }
    if (status !== "processing") {
      // paused: resume pokes us; cancelled/completed/failed: nothing more to dial. Calls
      // still in flight (a pause or cancel lets them finish) settle by their leases.
      const inFlight = this.ledger.batch()!.active_count > 0;
      if (inFlight) await this.resolveExpired(state, now);
      await this.flushReleases();
      await this.syncSummary(true);
      await this.announce(state);
      const lease = inFlight ? this.ledger.dueTimes().lease : null;
      return lease === null ? null : Math.max(lease, now + MIN_WAKE_GAP_MS);
    }

    const cfg = engineConfig(this.env);
    const version = this.ledger.batch()!.version;
    const resolved = await this.resolveExpired(state, now);
    // Jobs not heard of for dispatchStaleMs were lost with a queue message: hand them out again (one indexed query).
    const stale = this.ledger.reclaimStaleDispatches(now - cfg.dispatchStaleMs);
    if (stale.length) {
      this.ledger.addReleases(stale.map((s) => leaseId(state!.batchId, s.seq, s.attempt)));
      log("warn", "batch.stale_dispatches_reclaimed", { workspaceId: state.workspaceId, batchId: state.batchId, count: stale.length });
    }

    const dispatch = await this.dispatch(state, now);
    // A tick that changed nothing backs off from work it found overdue (see nextWake).
    const progressed = resolved > 0 || stale.length > 0 || dispatch.sent > 0 || this.ledger.batch()!.version !== version;
    this.idleTicks = progressed ? 0 : this.idleTicks + 1;
    await this.flushReleases();
    const b = this.ledger.batch()!;
    if (b.waiting_count === 0 && b.active_count === 0) {
      if (this.ledger.setStatus(["processing"], "completed", { completedTime: now })) {
        log("info", "batch.completed", { workspaceId: state.workspaceId, batchId: state.batchId, total: b.total_calls });
        await this.syncSummary(true);
        const done = this.ledger.batch()!;
        await this.emit("batch.completed", `${state.batchId}:${done.pass}`, {
          batchId: state.batchId,
          totalCalls: done.total_calls,
          completed: done.completed_count,
          failed: done.failed_count,
          cancelled: done.cancelled_count,
          completedTime: now,
        });
      }
      return null;
    }
    const due = this.ledger.dueTimes();
    const wake = {
      now,
      callbackDue: due.callback,
      leaseExpires: due.lease,
      oldestDispatch: due.dispatched,
      dispatchStaleMs: cfg.dispatchStaleMs,
      moreDue: dispatch.moreDue,
      retryAfterMs: dispatch.retryAfterMs,
      anyActive: b.active_count > 0,
      heartbeatMs: cfg.heartbeatMs,
      summaryBehind: false,
      summaryFlushMs: SUMMARY_FLUSH_MS,
      releasesPending: this.ledger.releases().length > 0,
      idleTicks: this.idleTicks,
    };
    // Counters reach D1 at most every SUMMARY_FLUSH_MS while calls flow; a batch about to sleep writes them now.
    const idle = nextWake(wake);
    const behind = await this.syncSummary(idle === null || idle - now >= SUMMARY_FLUSH_MS);
    return behind ? nextWake({ ...wake, summaryBehind: true }) : idle;
  }

  /**
   * Active calls whose lease ran out; returns how many were settled.
   * A confirmed dial that never reported a final status fails, through the
   * normal outcome path. An unconfirmed one (its claimer died before the
   * provider answered) is looked up at the provider: a call it has goes on
   * with the full lease; one it certainly never got is dialled again as the
   * same attempt; one nobody can vouch for fails with its fate unknown —
   * never dialled a second time.
   */
  private async resolveExpired(state: SchedulerState, now: number): Promise<number> {
    const expired = this.ledger.expiredActive(now);
    if (expired.length === 0) return 0;
    const config = await this.config();
    const cfg = engineConfig(this.env);
    const events: CallEvent[] = [];
    const unclaimed: { seq: number; attempt: number }[] = [];
    const cancelled = this.ledger.batch()!.status === "cancelled";
    const fates = await Promise.all(
      expired.map((c) =>
        c.confirmed
          ? null
          : findLostDial(this.env, config.agent.provider, {
              batchId: state.batchId,
              seq: c.seq,
              attempt: c.attempts,
              to: c.phone_number,
              from: config.agent.from_number,
              claimedAt: c.start_time ?? now - DIAL_CONFIRM_MS,
            }),
      ),
    );
    expired.forEach((c, i) => {
      const fate = fates[i];
      const base = { kind: "final" as const, batchId: state.batchId, seq: c.seq, attempt: c.attempts, outcome: "failed" as const, at: now };
      if (!fate) {
        events.push({ ...base, error: "No final status arrived from the provider before the call's lease expired." });
      } else if (fate.kind === "placed") {
        this.ledger.confirmDial(c.seq, c.attempts, { providerCallId: fate.providerCallId, callLeaseMs: cfg.callLeaseMs });
        log("warn", "call.dial_reconciled", { workspaceId: state.workspaceId, batchId: state.batchId, seq: c.seq, attempt: c.attempts, fate: "placed" });
      } else if (fate.kind === "not_placed") {
        // Never rang: the same attempt is dialled again, unless the batch was cancelled meanwhile.
        if (this.ledger.unclaim(c.seq, c.attempts)) {
          unclaimed.push({ seq: c.seq, attempt: c.attempts });
          if (cancelled) this.ledger.cancelWaiting();
          else this.ledger.undispatch(c.seq, c.attempts);
        }
        log("warn", "call.dial_reconciled", { workspaceId: state.workspaceId, batchId: state.batchId, seq: c.seq, attempt: c.attempts, fate: "not_placed" });
      } else {
        // A dial that got no response at all (placed() recorded it unreachable) ends saying so.
        const unreachable = this.ledger.unreachableError(c.seq, c.attempts);
        events.push({
          ...base,
          error:
            unreachable ??
            `The dial's fate is unknown: the service stopped after claiming this attempt and before the provider confirmed it (${fate.reason}), so it was not dialled again.`,
        });
        log("warn", "call.dial_fate_unknown", { workspaceId: state.workspaceId, batchId: state.batchId, seq: c.seq, attempt: c.attempts, reason: fate.reason });
      }
    });
    if (unclaimed.length > 0) this.ledger.addReleases(unclaimed.map((j) => leaseId(state.batchId, j.seq, j.attempt)));
    const results = events.length > 0 ? await this.applyLocal(state, events) : [];
    results.forEach((r, i) => {
      if (r === "applied")
        log("warn", "call.lease_expired", { workspaceId: state.workspaceId, batchId: state.batchId, seq: events[i]!.seq, attempt: events[i]!.attempt });
    });
    return expired.length;
  }

  /** The workspace's limits, time zone and webhook URL, re-read from D1 at most every few seconds. */
  private async workspace(state: SchedulerState): Promise<WorkspaceEngineInfo | null> {
    const at = Date.now();
    if (this.workspaceCache && at - this.workspaceCache.at < WORKSPACE_REFRESH_MS) return this.workspaceCache.info;
    const info = await workspaceEngineInfo(this.env.DB, state.workspaceId);
    this.workspaceCache = info ? { info, at } : null;
    return info;
  }

  private async dispatch(state: SchedulerState, now: number): Promise<{ moreDue: boolean; retryAfterMs: number; sent: number }> {
    const ws = await this.workspace(state);
    if (!ws) return { moreDue: false, retryAfterMs: 0, sent: 0 };
    const config = await this.config();
    const want = Math.min(MAX_SLICE, Math.max(1, ws.callsPerSecond * 2), ws.maxConcurrentCalls);
    const window = config.callingWindow;
    const { callbacks, firsts } = this.ledger.dueCandidates(now, state.cursor, want, window ? config.columns.indexOf("timezone") : -1);
    const more = callbacks.length + firsts.length >= want;

    let picked: Candidate[] = [...callbacks, ...firsts].slice(0, want);
    const pickedFirsts = firsts.filter((f) => picked.includes(f));
    if (window) {
      const closed: { seq: number; dueAt: number }[] = [];
      picked = picked.filter((c) => {
        const tz = window.timezone === "recipient" ? c.tz || ws.timezone || "UTC" : window.timezone;
        const opens = nextOpening(window, tz, now);
        if (opens > now) closed.push({ seq: c.seq, dueAt: opens });
        return opens <= now;
      });
      this.ledger.deferCalls(closed);
    }
    // The do-not-call list may have grown since intake: one query for the whole slice. A workspace
    // whose list was empty at the last refresh is skipped: numbers added since were pushed to
    // its live batches (suppress) when they were added.
    if (picked.length > 0 && ws.hasDnc) {
      const blocked = await dncAmong(
        this.env.DB,
        state.workspaceId,
        picked.map((c) => c.phone),
      );
      if (blocked.size > 0) {
        for (const c of picked) if (blocked.has(c.phone)) this.ledger.closeWaiting(c.seq, c.attempts, "on the do-not-call list", now);
        picked = picked.filter((c) => !blocked.has(c.phone));
      }
    }
    if (picked.length === 0) {
      await this.advanceCursor(pickedFirsts, null);
      return { moreDue: more, retryAfterMs: 1000, sent: 0 };
    }

    const jobs = picked.map((c) => ({ seq: c.seq, attempt: c.attempts + 1 }));
    const lease = (j: { seq: number; attempt: number }) => leaseId(state.batchId, j.seq, j.attempt);
    const released = this.ledger.releases();
    const grant = await this.env.WORKSPACE_LIMITER.getByName(state.workspaceId).reserve({
      batchId: state.batchId,
      leaseIds: jobs.map(lease),
      batchCap: config.maxConcurrentCalls,
      limits: { callsPerSecond: ws.callsPerSecond, maxConcurrentCalls: ws.maxConcurrentCalls },
      reserveTtlMs: engineConfig(this.env).reserveTtlMs,
      release: released,
    });
    this.ledger.clearReleases(released);
    const granted = new Set(grant.granted);
    const chosen = jobs.filter((j) => granted.has(lease(j)));
    const firstRefused = jobs.find((j) => !granted.has(lease(j)) && pickedFirsts.some((f) => f.seq === j.seq));
    await this.advanceCursor(pickedFirsts, firstRefused?.seq ?? null);
    if (chosen.length > 0) {
      // Marked and written to the outbox in one step: if this tick dies now, the next one sends these.
      const marked = this.ledger.markDispatched(chosen, now);
      const markedSeqs = new Set(marked.map((j) => j.seq));
      this.ledger.addReleases(chosen.filter((j) => !markedSeqs.has(j.seq)).map(lease));
      await this.flushOutbox();
    }
    // Everything asked for was granted and more is due: look again as soon as pokes would.
    return {
      moreDue: more || chosen.length < jobs.length,
      retryAfterMs: chosen.length < jobs.length ? grant.retryAfterMs : POKE_COALESCE_MS,
      sent: chosen.length,
    };
  }

  /**
   * Moves the first-attempt cursor past the first attempts this tick looked
   * at (sent, deferred or suppressed), but not past one the limiter refused:
   * that one is looked at again next time.
   */
  private async advanceCursor(looked: Candidate[], refusedSeq: number | null): Promise<void> {
    const last = looked.at(-1);
    if (!last) return;
    await this.patchState({ cursor: refusedSeq ?? last.seq + 1 });
  }

  /** Sends the outbox's jobs, a sendBatch at a time, forgetting each chunk once sent. */
  private async flushOutbox(): Promise<void> {
    const pending = this.ledger.outbox();
    if (pending.length === 0) return;
    const state = (await this.state())!;
    for (let i = 0; i < pending.length; i += MAX_SLICE) {
      const chunk = pending.slice(i, i + MAX_SLICE);
      await enqueueCallJobs(
        this.ports.queue,
        chunk.map((j) => ({ batchId: state.batchId, seq: j.seq, attempt: j.attempt })),
      );
      this.ledger.clearOutbox(chunk);
    }
  }

  /** Hands freed leases back to the workspace's limiter (one call for all of them). */
  private async flushReleases(): Promise<void> {
    const leases = this.ledger.releases();
    if (leases.length === 0) return;
    const state = await this.state();
    if (!state) return;
    await this.env.WORKSPACE_LIMITER.getByName(state.workspaceId).release(leases);
    this.ledger.clearReleases(leases);
  }

  /**
   * Writes the ledger's status and counters to the batch's D1 row: at once
   * when `force` (a status change), otherwise at most every
   * SUMMARY_FLUSH_MS. Returns whether the summary is still behind.
   */
  private async syncSummary(force: boolean, checkD1 = false): Promise<boolean> {
    const state = await this.state();
    const b = this.ledger.batch();
    if (!state || !b || !state.published) return false;
    if (checkD1) {
      // The cron's check: compare with what D1 really holds, not with what this object last wrote.
      const written = await summaryVersion(this.env.DB, state.batchId);
      if (written === null || written >= b.version) return false;
      await writeBatchSummary(this.env.DB, state.batchId, { ...b });
      await this.patchState({ summaryVersion: Math.max((await this.state())!.summaryVersion, b.version), summaryAt: Date.now() });
      return true;
    }
    if (b.version === state.summaryVersion) return false;
    if (!force && Date.now() - state.summaryAt < SUMMARY_FLUSH_MS) return true;
    await writeBatchSummary(this.env.DB, state.batchId, { ...b });
    const latest = (await this.state())!;
    await this.patchState({ summaryVersion: Math.max(latest.summaryVersion, b.version), summaryAt: Date.now() });
    return false;
  }

  private async emit(type: WebhookEventType, key: string, data: Record<string, unknown>): Promise<void> {
    const state = await this.state();
    if (!state) return;
    const ws = await this.workspace(state);
    await emitWebhook(this.env, state.workspaceId, type, key, data, ws?.webhookUrl ?? null);
  }

  // ---- the consumer's side -------------------------------------------------------

  /**
   * One queue batch's jobs: each passes the workspace's rate gate (one
   * limiter call for all), and those admitted are claimed (waiting →
   * active, exactly once) with the instant the gate counted as their
   * start. The gate comes first and the claim re-checks the call and the
   * batch after it, so a cancel or pause that lands meanwhile is honoured.
   * Jobs the gate holds back come back with how long to wait; a job whose
   * reservation lapsed (or `giveUp`) is handed back to the scheduler.
   */
  async claim(jobs: { seq: number; attempt: number }[], opts: { giveUp?: boolean } = {}): Promise<ClaimResult[]> {
    const state = await this.ready();
    if (!state) return jobs.map((j) => ({ ...j, kind: "unknown" }));
    const config = await this.config();
    const ws = await this.workspace(state);
    const cfg = engineConfig(this.env);
    const lease = (j: { seq: number; attempt: number }) => leaseId(state.batchId, j.seq, j.attempt);
    const results = new Map<number, ClaimResult>();
    const freed: string[] = [];

    // Settled without the gate: unknown, already claimed (a redelivery), or given up.
    const toGate: { seq: number; attempt: number }[] = [];
    for (const j of jobs) {
      const row = this.ledger.call(j.seq);
      if (!row) results.set(j.seq, { ...j, kind: "unknown" });
      else if (row.attempts >= j.attempt) results.set(j.seq, { ...j, kind: "already" });
      else if (opts.giveUp || !ws) {
        this.ledger.undispatch(j.seq, j.attempt);
        freed.push(lease(j));
        results.set(j.seq, { ...j, kind: "handed_back" });
      } else toGate.push(j);
    }

    const gates = toGate.length
      ? await this.env.WORKSPACE_LIMITER.getByName(state.workspaceId).startMany({
          leaseIds: toGate.map(lease),
          callsPerSecond: ws!.callsPerSecond,
          callLeaseMs: cfg.callLeaseMs,
        })
      : [];
    toGate.forEach((j, i) => {
      const gate = gates[i]!;
      if (!gate.ok && "noLease" in gate) {
        // The reservation lapsed: hand the attempt back untouched.
        this.ledger.undispatch(j.seq, j.attempt);
        results.set(j.seq, { ...j, kind: "handed_back" });
        return;
      }
      if (!gate.ok) {
        results.set(j.seq, { ...j, kind: "wait", waitMs: gate.waitMs });
        return;
      }
      const row = this.ledger.call(j.seq)!;
      // Until the provider answers, the attempt holds a short lease: if its claimer dies, the tick finds it within DIAL_CONFIRM_MS.
      const claimedAt = Math.max(gate.at, Date.now());
      if (this.ledger.claim(j.seq, j.attempt, gate.at, claimedAt + DIAL_CONFIRM_MS)) {
        count("engine.claims");
        results.set(j.seq, {
          ...j,
          kind: "claimed",
          dial: {
            to: row.phone_number,
            startedAt: gate.at,
            dialBy: claimedAt + DIAL_DEADLINE_MS,
            agent: config.agent,
            variables: variablesOf(config.columns, row.metadata),
            webhookUrl: ws?.webhookUrl ?? null,
            workspaceId: state.workspaceId,
          },
        });
        return;
      }
      // Not claimable: a twin has it, or the batch is not running. A paused batch gets the attempt back for later.
      const status = this.ledger.batch()!.status;
      if (status === "paused" || status === "queued") this.ledger.undispatch(j.seq, j.attempt);
      const now = this.ledger.call(j.seq)!;
      if (!(now.status === "active" && now.attempts === j.attempt)) freed.push(lease(j));
      results.set(j.seq, { ...j, kind: "not_claimable", batchStatus: status });
    });
    this.feed?.changed(jobs.filter((j) => results.get(j.seq)?.kind === "claimed").map((j) => j.seq));
    // Jobs waiting at the gate are alive in some consumer: not stale.
    const waiting = jobs.filter((j) => results.get(j.seq)?.kind === "wait");
    if (waiting.length > 0) this.ledger.touchDispatched(waiting, Date.now());
    if (freed.length > 0) {
      this.ledger.addReleases(freed);
      await this.flushReleases();
    }
    if (freed.length > 0 || [...results.values()].some((r) => r.kind === "handed_back")) await this.poke();
    return jobs.map((j) => results.get(j.seq)!);
  }

  /** What the provider said about claimed attempts, one call per queue batch. */
  async placed(reports: PlacedReport[]): Promise<void> {
    const state = await this.ready();
    if (!state) return;
    const finals: CallEvent[] = [];
    const { callLeaseMs } = engineConfig(this.env);
    for (const r of reports) {
      switch (r.kind) {
        case "placed":
          this.ledger.confirmDial(r.seq, r.attempt, { providerCallId: r.providerCallId, callLeaseMs });
          break;
        case "unknown":
          // Never re-sent: the status webhook or the lease expiry settles this attempt.
          this.ledger.confirmDial(r.seq, r.attempt, { error: r.error, callLeaseMs });
          break;
        case "unreachable":
          // Never re-sent, and never given the call's lease: unless a status report confirms it,
          // the tick settles it when the claim's DIAL_CONFIRM_MS lease runs out, and its slot is free.
          this.ledger.recordUnreachable(r.seq, r.attempt, r.error);
          break;
        case "rate_limited":
        case "too_late":
          // Nothing was placed: undo the claim (the lease stays reserved); the queue retries the job.
          this.ledger.unclaim(r.seq, r.attempt);
          break;
        case "rejected":
          finals.push({ kind: "final", batchId: state.batchId, seq: r.seq, attempt: r.attempt, outcome: "failed", at: r.at, error: r.error });
      }
    }
    if (finals.length > 0) {
      await this.applyLocal(state, finals);
      await this.flushReleases();
    }
  }

  /** Jobs that failed on every retry: their calls fail with a clear error, never dialled. */
  async deadLetter(jobs: { seq: number; attempt: number }[]): Promise<void> {
    const state = await this.ready();
    if (!state) return;
    const error = "The call could not be dispatched: its job failed on every retry.";
    const now = Date.now();
    for (const j of jobs) {
      // A job that died after its claim but before any dial is first put back to waiting, then closed.
      if (!this.ledger.closeUndialled(j.seq, j.attempt, "failed", "failed", error, now) && this.ledger.unclaim(j.seq, j.attempt)) {
        this.ledger.closeUndialled(j.seq, j.attempt, "failed", "failed", error, now);
      }
      log("error", "call_job.dead_lettered", { batchId: state.batchId, seq: j.seq, attempt: j.attempt });
    }
    this.ledger.addReleases(jobs.map((j) => leaseId(state.batchId, j.seq, j.attempt)));
    await this.flushReleases();
    await this.poke();
  }

  /**
   * Status reports (provider webhooks, the simulated carrier, lease expiry).
   * Applied only if news: a final result for the attempt that is active
   * now. `coalesce`: freed slots go back to the limiter with the next tick
   * (≤ POKE_COALESCE_MS later) instead of in a call of their own.
   */
  async applyEvents(events: CallEvent[], opts: { coalesce?: boolean } = {}): Promise<ApplyResult[]> {
    const state = await this.ready();
    if (!state) return events.map(() => "unknown_call");
    const results = await this.applyLocal(state, events);
    if (!opts.coalesce) await this.flushReleases();
    return results;
  }

  private async applyLocal(state: SchedulerState, events: CallEvent[]): Promise<ApplyResult[]> {
    const config = await this.config();
    const scale = timeScale(this.env);
    const webhooks: [WebhookEventType, string, Record<string, unknown>][] = [];
    const results: ApplyResult[] = [];
    let ended = 0;
    for (const ev of events) {
      const row = this.ledger.call(ev.seq);
      if (!row) {
        results.push("unknown_call");
        continue;
      }
      if (ev.kind === "progress") {
        // Any report proves the dial happened.
        this.ledger.confirmDial(ev.seq, ev.attempt, { providerCallId: ev.providerCallId, callLeaseMs: engineConfig(this.env).callLeaseMs });
        results.push("applied");
        continue;
      }
      if (row.status !== "active" || row.attempts !== ev.attempt) {
        results.push("ignored");
        continue;
      }
      const status = this.ledger.batch()!.status;
      const step = nextStep({
        config: config.smartCallbackConfig,
        outcome: ev.outcome,
        attemptInPass: ev.attempt - row.pass_base,
        endedAt: ev.at,
        batchRunning: status === "processing" || status === "paused",
        timeScale: scale,
      });
      const answered = connected(ev.outcome);
      const duration = answered ? (ev.durationSec ?? 0) : (ev.durationSec ?? null);
      const next: CallStatus = step.kind === "callback" ? "waiting" : step.status;
      // Every attempt that did not connect says why, in a sentence (a failed call's `error`).
      const error = failureReason(ev.outcome, ev.attempt - row.pass_base, ev.error);
      const applied = this.ledger.finish(ev.seq, ev.attempt, {
        status: next,
        outcome: ev.outcome,
        endTime: ev.at,
        duration,
        error,
        dueAt: step.kind === "callback" ? step.dueAt : 0,
      });
      if (!applied) {
        results.push("ignored");
        continue;
      }
      ended++;
      this.ledger.addReleases([leaseId(state.batchId, ev.seq, ev.attempt)]);
      log("info", "call.attempt_ended", {
        workspaceId: state.workspaceId,
        batchId: state.batchId,
        seq: ev.seq,
        attempt: ev.attempt,
        outcome: ev.outcome,
        next,
      });
      const id = callId(state.batchId, ev.seq);
      if (step.kind === "callback") {
        webhooks.push([
          "call.retry_scheduled",
          `${id}:${ev.attempt}`,
          { batchId: state.batchId, callId: id, attempt: ev.attempt, outcome: ev.outcome, error, nextAttemptAt: isoMs(step.dueAt) },
        ]);
      } else if (step.status !== "cancelled") {
        const type = step.status === "completed" ? "call.completed" : "call.failed";
        webhooks.push([
          type,
          `${id}:${ev.attempt}`,
          { batchId: state.batchId, callId: id, attempt: ev.attempt, status: step.status, outcome: ev.outcome, endTime: ev.at, duration, error },
        ]);
      }
      results.push("applied");
    }
    if (ended > 0) {
      count("engine.finals", ended);
      this.feed?.changed(events.filter((_, i) => results[i] === "applied").map((e) => e.seq));
      await this.poke();
    }
    if (webhooks.length > 0) await Promise.all(webhooks.map(([type, key, data]) => this.emit(type, key, data)));
    return results;
  }

  /** Numbers that joined the do-not-call list: their waiting calls are cancelled now, dispatched or not. */
  async suppress(phones: string[]): Promise<number> {
    const state = await this.ready();
    if (!state) return 0;
    const { cancelled, dispatched } = this.ledger.cancelNumbers(phones, "on the do-not-call list", Date.now());
    // A job already on the queue will find nothing to claim; its reservation is freed now, not when it lapses.
    if (dispatched.length > 0) this.ledger.addReleases(dispatched.map((j) => leaseId(state.batchId, j.seq, j.attempt)));
    if (cancelled > 0) await this.poke();
    return cancelled;
  }

  // ---- control -------------------------------------------------------------------

  /** Waiting calls are cancelled with the batch, in one step: no claim can follow. Active calls finish. */
  async cancel(): Promise<ControlResult<{ already: boolean; batch: LedgerBatch }>> {
    const state = await this.ready();
    const b = this.ledger.batch();
    if (!state || !b) return { ok: false, status: "gone" };
    if (b.status === "cancelled") {
      // A repeated cancel (its first answer may have been lost with a crash) finishes what the first left undone.
      await this.settleControl(state);
      return { ok: true, value: { already: true, batch: this.ledger.batch()! } };
    }
    if (b.status !== "queued" && b.status !== "processing" && b.status !== "paused") return { ok: false, status: b.status };
    await this.armFor("cancelled", state, false);
    if (!this.ledger.setStatus(["queued", "processing", "paused"], "cancelled", { completedTime: Date.now() })) return { ok: false, status: b.status };
    const dispatched = this.ledger.cancelWaiting();
    this.feed?.changed();
    if (dispatched.length > 0) this.ledger.addReleases(dispatched.map((j) => leaseId(state.batchId, j.seq, j.attempt)));
    // Dials that got no response hold their slots only for want of a lease expiry: a cancel settles them now.
    const unreachable = this.ledger.unreachableActive();
    if (unreachable.length > 0) {
      const at = Date.now();
      await this.applyLocal(
        state,
        unreachable.map((u) => ({
          kind: "final" as const,
          batchId: state.batchId,
          seq: u.seq,
          attempt: u.attempt,
          outcome: "failed" as const,
          at,
          error: u.error,
        })),
      );
    }
    await killPoint(this.env, "cancel.committed");
    await this.syncSummary(true);
    await killPoint(this.env, "cancel.summarised");
    await this.announce(state);
    await killPoint(this.env, "cancel.emitted");
    await this.poke();
    return { ok: true, value: { already: false, batch: this.ledger.batch()! } };
  }

  /**
   * The batch-level webhook for a final status that has not been sent yet
   * (batch.cancelled today). Sent by the control call, by the tick and by
   * the cron's visit, until one of them records it; the event's id is
   * stable, so a second send is a duplicate the receiver can drop.
   */
  private async announce(state: SchedulerState): Promise<void> {
    const b = this.ledger.batch();
    if (!b || !this.announcePending(state, b)) return;
    await this.emit("batch.cancelled", state.batchId, {
      batchId: state.batchId,
      completedCalls: b.completed_count,
      failedCalls: b.failed_count,
      cancelledCalls: b.cancelled_count,
      totalCalls: b.total_calls,
    });
    await this.patchState({ cancelAnnounced: true });
  }

  private announcePending(state: SchedulerState, b: LedgerBatch): boolean {
    return b.status === "cancelled" && state.published && !state.cancelAnnounced;
  }

  /** A repeated control request re-arms a live batch and writes a summary that fell behind: a crash after the first leaves nothing stranded. */
  private async settleControl(state: SchedulerState): Promise<void> {
    const b = this.ledger.batch()!;
    if (b.status === "queued" || b.status === "processing") await this.armFor(b.status, state, false);
    await this.syncSummary(true);
    await this.announce(state);
  }

  /** Pause keeps the queue; calls in flight finish. Pausing a paused batch is harmless. */
  async pause(): Promise<ControlResult<BatchStatus>> {
    const state = await this.ready();
    const b = this.ledger.batch();
    if (!state || !b) return { ok: false, status: "gone" };
    if (b.status === "paused") {
      await this.settleControl(state);
      return { ok: true, value: "paused" };
    }
    if (!this.ledger.setStatus(["queued", "processing"], "paused")) return { ok: false, status: b.status };
    this.feed?.changed();
    await killPoint(this.env, "pause.committed");
    await this.syncSummary(true);
    await killPoint(this.env, "pause.summarised");
    return { ok: true, value: "paused" };
  }

  /** A batch paused before its first dial goes back to waiting for its start time. */
  async resume(): Promise<ControlResult<BatchStatus>> {
    const state = await this.ready();
    const b = this.ledger.batch();
    if (!state || !b) return { ok: false, status: "gone" };
    if (b.status === "queued" || b.status === "processing") {
      // Already running — or a first resume died after its step: make sure the clock runs and D1 knows.
      await this.settleControl(state);
      return { ok: true, value: b.status };
    }
    if (b.status !== "paused") return { ok: false, status: b.status };
    const to = b.start_time === null ? "queued" : "processing";
    await this.armFor(to, state, true);
    if (!this.ledger.setStatus(["paused"], to)) return { ok: false, status: this.ledger.batch()!.status };
    this.feed?.changed();
    await killPoint(this.env, "resume.committed");
    await this.syncSummary(true);
    await killPoint(this.env, "resume.summarised");
    return { ok: true, value: to };
  }

  /** A new pass over recipients whose final outcome was no_answer, busy or failed. */
  async retry(): Promise<ControlResult<{ status: BatchStatus; requeued: number }>> {
    const state = await this.ready();
    const b = this.ledger.batch();
    if (!state || !b) return { ok: false, status: "gone" };
    if (b.status !== "completed") {
      // A retry whose first answer was lost finds the batch running: keep it moving, then say it is running.
      await this.settleControl(state);
      return { ok: false, status: b.status };
    }
    if (!this.ledger.hasRetryable(RETRYABLE_OUTCOMES)) return { ok: true, value: { status: b.status, requeued: 0 } };
    await this.armFor("processing", state, true);
    // One synchronous step: the new pass and its re-queued calls commit together.
    this.ledger.setStatus(["completed"], "processing", { completedTime: null, passPlusOne: true });
    const requeued = this.ledger.requeue(RETRYABLE_OUTCOMES);
    this.feed?.changed();
    await killPoint(this.env, "retry.committed");
    await this.syncSummary(true);
    await killPoint(this.env, "retry.summarised");
    log("info", "batch.retry", { workspaceId: state.workspaceId, batchId: state.batchId, requeued });
    return { ok: true, value: { status: "processing", requeued } };
  }

  // ---- reads -----------------------------------------------------------------------

  /** Status, counters and times as the ledger has them now, with the most recent calls. */
  async progress(recent: number): Promise<Progress | null> {
    const state = await this.ready();
    const b = this.ledger.batch();
    if (!state || !b) return null;
    return { ...b, recent: recentCallRows(this.ledger, recent) };
  }

  /** A page of calls, at most `maxBytes` of JSON however wide the rows (views/call boundedCalls), with the counters. */
  async listCalls(status: CallStatus | null, limit: number, offset: number, maxBytes?: number): Promise<{ calls: CallView[]; batch: LedgerBatch } | null> {
    const state = await this.ready();
    if (!state || !this.ledger.batch()) return null;
    const { columns } = await this.config();
    // No await from here on: the page and the counters are one snapshot of the ledger.
    const calls = readCallPage(this.ledger, state.batchId, columns, { status, limit, offset, maxBytes });
    return { calls, batch: this.ledger.batch()! };
  }

  /** Calls after `afterSeq` in file order, at most `limit` and about `maxBytes` of metadata: keyset pages for exports that walk a whole batch. */
  async callsAfter(afterSeq: number, limit: number, maxBytes: number): Promise<CallRow[]> {
    const state = await this.ready();
    if (!state) return [];
    return this.ledger.callsAfterWithin(afterSeq, limit, maxBytes);
  }
}

/** The call's custom CSV columns, verbatim: the dial's dynamic variables. */
function variablesOf(columns: string[], metadata: string): Record<string, string> {
  const values = JSON.parse(metadata) as string[];
  // Built by fromEntries (own data properties): a column named __proto__ is a variable like any
  // other, not a prototype setter — and the object stays plain, so it crosses RPC to the consumer.
  return Object.fromEntries(columns.flatMap((c, i) => (KNOWN_COLUMNS.has(c) ? [] : [[c, values[i] ?? ""]])));
}
