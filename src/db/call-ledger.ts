/**
 * One batch's calls, in its BatchScheduler's own SQLite. Every transition
 * is a conditional statement on the state it expects (status, attempt
 * numbers), run synchronously inside the object, so a replayed job, a
 * second alarm or a late status report changes nothing. The batch's
 * status and counters live in the one-row `batch` table; a trigger keeps
 * the counters in step with every call's status change, and bumps
 * `version`, which tells the object its D1 summary is behind.
 *
 * This class is the ledger's whole surface, each method one line over its
 * part in ledger/: schema.ts (the migrations), rows.ts (row types), batch.ts
 * (the batch row, materialising, batch-wide changes), dispatch.ts (dispatch
 * marks, the outbox, pending limiter releases), in-flight.ts (the calls the
 * scheduler watches), transitions.ts (one attempt's transitions) and
 * reads.ts (the scheduler's and the API's reads).
 */
import type { BatchStatus, CallStatus } from "../domain/vocabulary";
import * as batch from "./ledger/batch";
import * as dispatch from "./ledger/dispatch";
import { expiredOf, InFlight, type LiveCall, liveCalls, unreachableOf, type WatchedCalls } from "./ledger/in-flight";
import { SeqsByNumber } from "./ledger/seqs-by-number";
import { StopWindow } from "./ledger/stop-window";
import * as reads from "./ledger/reads";
import { ResultLedger } from "./ledger/results";
import type { CallRow, Candidate, ExpiredAttempt, LedgerBatch, MetadataExcerpt } from "./ledger/rows";
import { migrate } from "./ledger/schema";
import * as transitions from "./ledger/transitions";

export type { AttemptRow, BatchProgress, CallRow, Candidate, ExpiredAttempt, LedgerBatch, MetadataExcerpt, ResultCounters, ResultRow } from "./ledger/rows";
export { isoMs } from "./ledger/rows";
export type { CallFilterSpec } from "./ledger/reads";
export type { DialConfirmation } from "./ledger/transitions";
export type { ResultFields, StoredResult } from "./ledger/results";

export class CallLedger {
  /** The agent's side: results, requested callbacks, opt-outs, attempt history, counters (ledger/results.ts). */
  readonly results: ResultLedger;
  /** Limiter leases freed but not yet handed back (ledger/dispatch.ts). */
  readonly releases: dispatch.PendingReleases;
  /** The last finished attempts, for the stop rules (ledger/stop-window.ts). */
  readonly stopWindow: StopWindow;
  /** Attempts on the queue not yet claimed, and attempts active now (ledger/in-flight.ts). */
  readonly inFlight: InFlight;
  readonly live: WatchedCalls<LiveCall>;
  /** Calls by the numbers they give, for cancels by number (built when first needed; memory only). */
  private byNumber: SeqsByNumber | null = null;

  constructor(private readonly sql: SqlStorage) {
    migrate(sql);
    this.results = new ResultLedger(sql);
    this.releases = new dispatch.PendingReleases(sql);
    this.stopWindow = new StopWindow(sql);
    this.inFlight = new InFlight(sql);
    this.live = liveCalls(sql);
  }

  createBatch(status: BatchStatus): void {
    batch.createBatch(this.sql, status);
  }

  batch(): LedgerBatch | null {
    return batch.batch(this.sql);
  }

  /** The batch row's status, version and live counts alone: what the per-call steps read of it. */
  head(): batch.BatchHead | null {
    return batch.head(this.sql);
  }

  /** A conditional status change; true if it happened. */
  setStatus(from: BatchStatus[], to: BatchStatus, extra: batch.StatusExtra = {}): boolean {
    return batch.setStatus(this.sql, from, to, extra);
  }

  /**
   * Adds a slice of rows (`[[seq, e164, [values…]], …]`), leaving out the
   * seqs intake found on the do-not-call list. A slice already added (a
   * resumed materialisation) adds nothing: seq is the primary key.
   */
  insertSlice(sliceJson: string): number {
    return batch.insertSlice(this.sql, sliceJson);
  }

  setSuppressed(seqs: number[]): void {
    batch.setSuppressed(this.sql, seqs);
  }

  countCalls(): number {
    return batch.countCalls(this.sql);
  }

  /** After materialising: every call is waiting. */
  setTotals(total: number): void {
    batch.setTotals(this.sql, total);
  }

  /** Calls ready for their next attempt: overdue callbacks first (by due time), then first attempts from `cursor` in file order; none already on the queue. */
  dueCandidates(now: number, cursor: number, limit: number, tzColumn: number): { callbacks: Candidate[]; firsts: Candidate[] } {
    return reads.dueCandidates(this.sql, now, cursor, limit, tzColumn);
  }

  /** When something next needs the scheduler: a callback coming due, a lease running out, a dispatch going stale. */
  dueTimes(): { callback: number | null; lease: number | null; dispatched: number | null } {
    return { callback: reads.callbackDue(this.sql), lease: this.live.value<number>("min(lease_expires_at)"), dispatched: this.inFlight.oldest() };
  }

  /** Active attempts whose lease ran out; `confirmed` false: nothing was heard since its claim, so its dial may never have happened. */
  expiredActive(now: number, limit = 100): ExpiredAttempt[] {
    return expiredOf(this.live.rows(), now, limit);
  }

  /**
   * Marks attempts as handed to the queue and records them in the outbox
   * (one row for the slice, not one per job), in one synchronous step;
   * returns the jobs marked. Only unmarked attempts of a running batch are
   * marked. Each row is found by its key. `to`: the number the attempt
   * calls when the recipient has several.
   */
  markDispatched(jobs: { seq: number; attempt: number; to?: string | null }[], now: number): { seq: number; attempt: number }[] {
    const marked = dispatch.markDispatched(this.sql, jobs, now);
    this.inFlight.add(marked.map((j) => j.seq));
    return marked;
  }

  /** The outbox's slices, oldest first: jobs marked dispatched whose sending is not yet confirmed. */
  outbox(): dispatch.OutboxSlice[] {
    return dispatch.outbox(this.sql);
  }

  /** Forgets a slice once its jobs are on the queue. */
  clearOutbox(id: number): void {
    dispatch.clearOutbox(this.sql, id);
  }

  /** Moves undispatched calls to a later time (the calling window's next opening), saying why they wait. */
  deferCalls(items: { seq: number; dueAt: number; reason: string }[]): void {
    dispatch.deferCalls(this.sql, items);
  }

  /** Takes back a dispatched, unclaimed attempt that may not start before `until` (the contact policy, a pool with no number free). */
  holdDispatched(seq: number, attempt: number, until: number, reason: string): boolean {
    return dispatch.holdDispatched(this.sql, seq, attempt, until, reason);
  }

  /** Dispatched jobs heard of again (waiting at the rate gate): not lost, so their stale clock restarts. */
  touchDispatched(jobs: { seq: number; attempt: number }[], now: number): void {
    dispatch.touchDispatched(this.sql, jobs, now);
  }

  /** Dispatched attempts nobody claimed in time (a lost message): handed back, due at once. */
  reclaimStaleDispatches(before: number): { seq: number; attempt: number }[] {
    return dispatch.reclaimStaleDispatches(
      this.sql,
      this.inFlight.list().filter((j) => j.at <= before),
      before,
    );
  }

  call(seq: number): CallRow | null {
    return reads.call(this.sql, seq);
  }

  /** One call with its shown result (the latest attempt's). */
  callWithResult(seq: number): CallRow | null {
    return reads.callWithResult(this.sql, seq);
  }

  /**
   * waiting → active for attempt `attempt`: only if that attempt was
   * dispatched, nobody claimed it yet, and the batch is running. Stamps the
   * call's and the batch's start with the instant the rate gate admitted it,
   * and records the caller ID `from` the gate chose.
   */
  claim(seq: number, attempt: number, startedAt: number, leaseExpiresAt: number, from: string | null = null): boolean {
    const ok = transitions.claim(this.sql, seq, attempt, startedAt, leaseExpiresAt, from);
    if (ok) this.live.add([seq]);
    return ok;
  }

  /** active → waiting for an attempt that was never dialled (a provider 429). It stays dispatched: the queue's retry claims it again. */
  unclaim(seq: number, attempt: number): boolean {
    return transitions.unclaim(this.sql, seq, attempt);
  }

  /** Takes back a dispatched but unclaimed attempt (paused batch, lapsed reservation); it is due at once. */
  undispatch(seq: number, attempt: number): boolean {
    return transitions.undispatch(this.sql, seq, attempt);
  }

  /** A dispatched, unclaimed attempt that must not be dialled (do-not-call, dead-lettered). */
  closeUndialled(seq: number, attempt: number, status: "cancelled" | "failed", outcome: string | null, error: string, now: number): boolean {
    return transitions.closeUndialled(this.sql, seq, attempt, status, outcome, error, now);
  }

  /** active → cancelled for a claimed attempt never dialled (the pre-dial check said no); a replay, or a dialled attempt, changes nothing. */
  cancelClaimed(seq: number, attempt: number, error: string, now: number): boolean {
    return transitions.cancelClaimed(this.sql, seq, attempt, error, now);
  }

  /** A waiting call not yet dispatched that must not be dialled (do-not-call found at dispatch). */
  closeWaiting(seq: number, attempts: number, error: string, now: number): boolean {
    return transitions.closeWaiting(this.sql, seq, attempts, error, now);
  }

  /**
   * Cancels every waiting call to one of `phones`, dispatched or not (a claim then finds nothing);
   * returns how many, and which of them held a dispatched job (its reservation is now free). A
   * recipient with several numbers is not cancelled: only a job for a listed number is taken back.
   */
  cancelNumbers(phones: string[], error: string, now: number): { cancelled: number; dispatched: { seq: number; attempt: number }[] } {
    this.byNumber ??= new SeqsByNumber(this.sql);
    const seqs = this.byNumber.of(phones);
    return seqs.length === 0 ? { cancelled: 0, dispatched: [] } : transitions.cancelNumbers(this.sql, phones, seqs, error, now);
  }

  /**
   * Dials of active attempts confirmed (the provider answered, or a status report arrived): each lease becomes
   * the call's full lease from its start. `error` records a create request whose result is unknown.
   */
  confirmDials(dials: transitions.DialConfirmation[], callLeaseMs: number): void {
    transitions.confirmDials(this.sql, dials, callLeaseMs);
  }

  /**
   * A dial that got no response at all (connection refused, DNS, TLS): its error is recorded and it keeps the
   * claim's short lease, so the tick settles it within DIAL_CONFIRM_MS unless a report confirms it first.
   * Unreachable = active, unconfirmed, with an error (a claim clears the error; a confirmation sets dial_confirmed).
   */
  recordUnreachable(seq: number, attempt: number, error: string): boolean {
    return transitions.recordUnreachable(this.sql, seq, attempt, error);
  }

  /** What an active, unconfirmed attempt ran into when it was dialled (recordUnreachable), or null. */
  unreachableError(seq: number, attempt: number): string | null {
    return transitions.unreachableError(this.sql, seq, attempt);
  }

  /** Every active attempt whose dial got no response (recordUnreachable): a cancelled batch settles these at once. */
  unreachableActive(): { seq: number; attempt: number; error: string }[] {
    return unreachableOf(this.live.rows());
  }

  /**
   * active → the attempt's result, exactly once per attempt. `dueAt` > 0: a callback then; `requested`: one the
   * recipient asked for (counted, and it starts a fresh smart-callback sequence).
   */
  finish(seq: number, attempt: number, end: transitions.AttemptEnd): boolean {
    return transitions.finish(this.sql, seq, attempt, end);
  }

  /** A cancel's first step: cancels the waiting calls that hold a job on the queue and returns them (their reservations are free); settleCancelled writes the rest. */
  cancelWaiting(): { seq: number; attempt: number }[] {
    return batch.cancelWaiting(this.sql, this.inFlight.list());
  }

  hasRetryable(outcomes: readonly string[]): boolean {
    return batch.hasRetryable(this.sql, outcomes);
  }

  /** A new pass: retryable failures wait again with a fresh callback budget. */
  requeue(outcomes: readonly string[]): number {
    return batch.requeue(this.sql, outcomes);
  }

  callsAfter(afterSeq: number, limit: number): CallRow[] {
    return reads.callsAfter(this.sql, afterSeq, limit);
  }

  /** The most recently ended calls, their metadata as an excerpt (see excerptColumn). */
  recentCallExcerpts(limit: number, excerpt: MetadataExcerpt): CallRow[] {
    return reads.recentCallExcerpts(this.sql, limit, excerpt);
  }

  /** These calls, in the order asked, their metadata as an excerpt. */
  callExcerpts(seqs: number[], excerpt: MetadataExcerpt): CallRow[] {
    return reads.callExcerpts(this.sql, seqs, excerpt);
  }

  /** listCalls' page with each row's metadata as an excerpt, and the stored metadata's size in bytes. */
  listCallExcerpts(
    filter: reads.CallFilterSpec | CallStatus | null,
    limit: number,
    offset: number,
    excerpt: MetadataExcerpt,
  ): (CallRow & { metadata_bytes: number })[] {
    const spec = filter === null || typeof filter === "string" ? { status: filter } : filter;
    return reads.listCallExcerpts(this.sql, spec, limit, offset, excerpt);
  }

  /** One call's stored metadata (a JSON array of its CSV values). */
  callMetadata(seq: number): string | null {
    return reads.callMetadata(this.sql, seq);
  }

  /** callsAfter with results, cut short past `maxBytes` of stored metadata (at least one row); keyset paging. */
  callsAfterWithin(afterSeq: number, limit: number, maxBytes: number): CallRow[] {
    return reads.callsAfterWithin(this.sql, afterSeq, limit, maxBytes);
  }
}
