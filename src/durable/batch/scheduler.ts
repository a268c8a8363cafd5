import { DurableObject } from "cloudflare:workers";
import type { CallRow, LedgerBatch, ResultCounters } from "../../db/call-ledger";
import type { BatchStatus, CallStatus } from "../../domain/vocabulary";
import { instrumentEnv } from "../../lib/metrics";
import type { CallView } from "../../views/call";
import * as claims from "./claims";
import { afterTick, poke, startNow, stopClock } from "./clock";
import { BatchContext, type SchedulerPorts } from "./context";
import { recordResult } from "./agent-results";
import { append, type AppendInput, type AppendResult } from "./append";
import type {
  ApplyResult,
  ArmInput,
  AttemptRef,
  CallDetail,
  CallEvent,
  ClaimResult,
  ControlResult,
  EngineState,
  ExportRow,
  PlacedReport,
  Progress,
  RecordResultAnswer,
  ResultReport,
  SchedulerState,
} from "./contract";
import * as control from "./control";
import { flushReleases } from "./effects";
import { ready } from "./materialise";
import * as reads from "./reads";
import { applyLocal, suppress } from "./results";
import { tick } from "./tick";
import * as tests from "./test-calls";

/**
 * One instance per batch (named by batch id). It owns the batch's calls in
 * its own SQLite (the ledger) and its alarm is the batch's clock: it
 * materialises the calls from the stored CSV, starts the batch when due,
 * resolves calls whose lease ran out, reserves capacity from the
 * workspace's limiter, hands that many due calls to the queue, applies
 * claims and status reports, and keeps the batch's D1 summary current.
 * Every step is a conditional transition on the ledger, so a tick may run
 * twice, or die half-way and run again, without sending a job twice.
 *
 * This class is its RPC surface only; each job is a module of free
 * functions over the object's context (./context.ts).
 */
export class BatchScheduler extends DurableObject<Env> {
  private readonly c: BatchContext;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.c = new BatchContext(ctx.storage, () => this.env);
  }

  /** The queue and the clock; tests replace them inside runInDurableObject. */
  get ports(): SchedulerPorts {
    return this.c.ports;
  }
  set ports(ports: SchedulerPorts) {
    this.c.ports = ports;
  }

  /** The batch, once its calls are all in the ledger; null for a batch this object does not hold. */
  private async live(): Promise<{ state: SchedulerState; b: LedgerBatch } | null> {
    const state = await ready(this.c);
    const b = this.c.ledger.batch();
    return state && b ? { state, b } : null;
  }

  /** GET /events (from the Worker's route, after it checked the caller may see this batch): the live event stream. */
  override async fetch(req: Request): Promise<Response> {
    if (new URL(req.url).pathname !== "/events") return new Response("not found", { status: 404 });
    const batch = await this.live();
    return batch ? reads.subscribe(this.c, batch.state) : new Response("not found", { status: 404 });
  }

  // ---- lifecycle: intake, the cron, a rolled-back upload -------------------

  /** Idempotent: arming an armed batch again keeps the first record. Materialising starts at once; a `draft` waits for start(). */
  async arm(input: ArmInput): Promise<SchedulerState> {
    const existing = await this.c.state();
    if (existing) return existing;
    this.c.discarded = false;
    const { batchId, workspaceId, dueAt } = input;
    const fresh = { published: false, materialised: false, materialisedRows: 0, cursor: 0, summaryVersion: 0, summaryAt: 0 };
    const state: SchedulerState = { batchId, workspaceId, dueAt, ...fresh };
    this.c.ledger.createBatch(input.draft ? "draft" : "queued");
    this.c.ledger.setSuppressed(input.suppressed);
    await this.c.create(input.config, state);
    await startNow(this.c);
    return state;
  }

  /** Intake published the batch in D1: it may start when due. */
  async publish(): Promise<void> {
    const state = await this.c.state();
    if (!state || state.published) return;
    await this.c.patchState({ published: true });
    await poke(this.c);
  }

  state(): Promise<SchedulerState | null> {
    return this.c.state();
  }

  /** Something changed (a call ended, the batch resumed): look again soon. `rewind` restarts the first-attempt scan. */
  async poke(rewind = false): Promise<void> {
    await poke(this.c, rewind);
  }

  /** The cron's safety net: repairs a summary left behind and restores a lost alarm. */
  async ensureAlarm(): Promise<{ alarmRestored: boolean; summaryRepaired: boolean }> {
    const state = await this.c.state();
    const b = state ? this.c.ledger.batch() : null;
    return state && b ? control.ensureAlarm(this.c, state, b) : { alarmRestored: false, summaryRepaired: false };
  }

  /** GET /v1/admin/batches/{id}/engine: the object's side of the batch. */
  async engineState(): Promise<EngineState | null> {
    const state = await this.c.state();
    const b = state ? this.c.ledger.batch() : null;
    return state && b ? reads.engineState(this.c, state, b) : null;
  }

  /** Forgets the batch entirely: used when an upload is rolled back. */
  async discard(): Promise<void> {
    this.c.discarded = true;
    await stopClock(this.c);
    await this.c.forget();
  }

  // ---- the clock ---------------------------------------------------------------

  override async alarm(): Promise<void> {
    await afterTick(this.c, await tick(this.c));
  }

  /** One pass of the batch's clock (tests drive it on an injected clock); returns when to run again. */
  tick(): Promise<number | null> {
    return tick(this.c);
  }

  // ---- the consumer's side and status reports --------------------------------------

  /** A queue batch's jobs through the rate gate and claimed, exactly once each (claims.ts). */
  async claim(jobs: AttemptRef[], opts: { giveUp?: boolean } = {}): Promise<ClaimResult[]> {
    const state = await ready(this.c);
    return state ? claims.claim(this.c, state, jobs, opts.giveUp ?? false) : jobs.map((j) => ({ ...j, kind: "unknown" }));
  }

  /** What the provider said about claimed attempts, one call per queue batch. */
  async placed(reports: PlacedReport[]): Promise<void> {
    const state = await ready(this.c);
    if (state) await claims.placed(this.c, state, reports);
  }

  /** Jobs the queue dead-lettered after its last delivery: their calls fail with a clear error, never dialled. */
  async deadLetter(jobs: AttemptRef[]): Promise<void> {
    const state = await ready(this.c);
    if (state) await claims.deadLetter(this.c, state, jobs);
  }

  /** Status reports (provider webhooks, the simulated carrier, lease expiry); `coalesce`: freed slots go back with the next tick. */
  async applyEvents(events: CallEvent[], opts: { coalesce?: boolean } = {}): Promise<ApplyResult[]> {
    const state = await ready(this.c);
    if (!state) return events.map(() => "unknown_call");
    const results = await applyLocal(this.c, state, events);
    if (!opts.coalesce) await flushReleases(this.c);
    return results;
  }

  /** Numbers that joined the do-not-call list: their waiting calls are cancelled now, dispatched or not. */
  async suppress(phones: string[]): Promise<number> {
    const state = await ready(this.c);
    return state ? suppress(this.c, state, phones) : 0;
  }

  /** An agent's result for one attempt (checked by the Worker): merged, and acted on (agent-results.ts). */
  async recordResult(seq: number, report: ResultReport): Promise<RecordResultAnswer> {
    const state = await ready(this.c);
    return state ? recordResult(this.c, state, seq, report) : { kind: "unknown_call" };
  }

  /** POST …/test-call: one call of a draft or paused batch outside its counters, for the Worker to dial (test-calls.ts); GET …/test-calls lists them. */
  async testCall(input: tests.TestCallInput): Promise<tests.TestCallCreated> {
    const state = await ready(this.c);
    return state ? tests.create(this.c, state, input) : { ok: false, kind: "status", status: "gone" };
  }

  async testCalls(): Promise<tests.TestCallView[] | null> {
    const state = await ready(this.c);
    return state ? tests.list(this.c, state) : null;
  }

  // ---- control -------------------------------------------------------------------

  /** A draft starts: at its scheduledAt if that is ahead, else now (control.ts). */
  start(): Promise<ControlResult<BatchStatus>> {
    return this.control(control.start);
  }

  cancel(): Promise<ControlResult<{ already: boolean; batch: LedgerBatch }>> {
    return this.control(control.cancel);
  }

  pause(): Promise<ControlResult<BatchStatus>> {
    return this.control(control.pause);
  }

  resume(): Promise<ControlResult<BatchStatus>> {
    return this.control(control.resume);
  }

  retry(): Promise<ControlResult<{ status: BatchStatus; requeued: number }>> {
    return this.control(control.retry);
  }

  /** One control step on the live batch ("gone": this object holds none). */
  private async control<T>(step: (c: BatchContext, state: SchedulerState, b: LedgerBatch) => Promise<ControlResult<T>>): Promise<ControlResult<T>> {
    const batch = await this.live();
    return batch ? step(this.c, batch.state, batch.b) : { ok: false, status: "gone" };
  }

  /** PATCH …/{batchId}: new settings for the next attempts, while draft, queued or paused (edit.ts). */
  edit(input: Parameters<typeof control.edit>[1]): ReturnType<typeof control.edit> {
    return control.edit(this.c, input);
  }

  /** POST …/{batchId}/rows: a stored, checked file's rows become calls, once per key, while the batch has not finished (append.ts). */
  append(input: AppendInput): Promise<AppendResult> {
    return append(this.c, input);
  }

  // ---- reads -----------------------------------------------------------------------

  async progress(recent: number): Promise<Progress | null> {
    const batch = await this.live();
    return batch ? reads.progress(this.c, batch.b, recent) : null;
  }

  /** A page of calls (reads.listCalls): by offset, or after the seq `afterSeq` (a decoded cursor; the offset is then ignored). */
  async listCalls(
    status: CallStatus | null,
    limit: number,
    offset: number,
    maxBytes?: number,
    disposition?: string | null,
    afterSeq?: number | null,
  ): Promise<{ calls: CallView[]; batch: LedgerBatch & ResultCounters; next: number | null } | null> {
    const batch = await this.live();
    return batch ? reads.listCalls(this.c, batch.state, { status, limit, offset, maxBytes, disposition, afterSeq }) : null;
  }

  async callsAfter(afterSeq: number, limit: number, maxBytes: number): Promise<CallRow[]> {
    return (await ready(this.c)) ? reads.callsAfter(this.c, afterSeq, limit, maxBytes) : [];
  }

  /** One call whole (callDetail), export pages (exportAfter) and the export's data columns (resultFields). */
  async callDetail(seq: number): Promise<CallDetail | null> {
    return (await ready(this.c)) ? reads.callDetail(this.c, seq) : null;
  }

  async exportAfter(afterSeq: number, limit: number, maxBytes: number, withAttempts: boolean): Promise<ExportRow[]> {
    return (await ready(this.c)) ? reads.exportAfter(this.c, afterSeq, limit, maxBytes, withAttempts) : [];
  }

  async resultFields(): Promise<string[]> {
    return (await ready(this.c)) ? reads.resultFields(this.c) : [];
  }
}
