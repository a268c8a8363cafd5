/**
 * One batch's calls, in its BatchScheduler's own SQLite. Every transition
 * is a conditional statement on the state it expects (status, attempt
 * numbers), run synchronously inside the object, so a replayed job, a
 * second alarm or a late status report changes nothing. The batch's
 * status and counters live in the one-row `batch` table; a trigger keeps
 * the counters in step with every call's status change, and bumps
 * `version`, which tells the object its D1 summary is behind.
 */
import type { BatchStatus, CallStatus } from "../domain/vocabulary";

export type CallRow = {
  seq: number;
  phone_number: string;
  metadata: string;
  status: CallStatus;
  outcome: string | null;
  attempts: number;
  next_attempt_at: string | null;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  error: string | null;
  dispatched_attempt: number;
  dispatched_at: number | null;
  pass_base: number;
  due_at: number;
  provider_call_id: string | null;
  lease_expires_at: number | null;
};

/** A batch's counters and times: kept by its ledger, mirrored in its D1 summary row. */
export type BatchProgress = {
  total_calls: number;
  waiting_count: number;
  active_count: number;
  completed_count: number;
  failed_count: number;
  cancelled_count: number;
  total_duration_ms: number;
  start_time: number | null;
  last_completed_time: number | null;
  completed_time: number | null;
};

/** The batch as its object knows it: status, counters and times. */
export type LedgerBatch = BatchProgress & {
  status: BatchStatus;
  pass: number;
  version: number;
};

export type ExpiredAttempt = { seq: number; attempts: number; phone_number: string; start_time: number | null; confirmed: boolean };

export type Candidate = { seq: number; attempts: number; phone: string; tz: string | null };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS calls (
  seq                INTEGER PRIMARY KEY,
  phone_number       TEXT NOT NULL,
  metadata           TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'waiting',
  outcome            TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    TEXT,
  start_time         INTEGER,
  end_time           INTEGER,
  duration           REAL,
  error              TEXT,
  dispatched_attempt INTEGER NOT NULL DEFAULT 0,
  dispatched_at      INTEGER,
  pass_base          INTEGER NOT NULL DEFAULT 0,
  due_at             INTEGER NOT NULL DEFAULT 0,
  provider_call_id   TEXT,
  lease_expires_at   INTEGER,
  -- 1 once the active attempt's dial is confirmed (the provider answered, or a report came)
  dial_confirmed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_due ON calls(due_at) WHERE status = 'waiting' AND due_at > 0;
CREATE INDEX IF NOT EXISTS calls_active ON calls(lease_expires_at) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS calls_dispatched ON calls(dispatched_at) WHERE status = 'waiting' AND dispatched_attempt > attempts;
CREATE INDEX IF NOT EXISTS calls_recent ON calls(end_time) WHERE end_time IS NOT NULL;
-- For /calls?status=… pages only. Without statistics the planner would also pick it
-- for the scheduler's queries and scan every waiting call, so those name their index.
CREATE INDEX IF NOT EXISTS calls_by_status ON calls(status, seq);
CREATE TABLE IF NOT EXISTS batch (
  id                  INTEGER PRIMARY KEY CHECK (id = 1),
  status              TEXT NOT NULL,
  pass                INTEGER NOT NULL DEFAULT 1,
  total_calls         INTEGER NOT NULL DEFAULT 0,
  waiting_count       INTEGER NOT NULL DEFAULT 0,
  active_count        INTEGER NOT NULL DEFAULT 0,
  completed_count     INTEGER NOT NULL DEFAULT 0,
  failed_count        INTEGER NOT NULL DEFAULT 0,
  cancelled_count     INTEGER NOT NULL DEFAULT 0,
  total_duration_ms   INTEGER NOT NULL DEFAULT 0,
  start_time          INTEGER,
  last_completed_time INTEGER,
  completed_time      INTEGER,
  version             INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS calls_status_counters AFTER UPDATE OF status ON calls
WHEN OLD.status != NEW.status
BEGIN
  UPDATE batch SET
    waiting_count   = waiting_count   - (OLD.status = 'waiting')   + (NEW.status = 'waiting'),
    active_count    = active_count    - (OLD.status = 'active')    + (NEW.status = 'active'),
    completed_count = completed_count - (OLD.status = 'completed') + (NEW.status = 'completed'),
    failed_count    = failed_count    - (OLD.status = 'failed')    + (NEW.status = 'failed'),
    cancelled_count = cancelled_count - (OLD.status = 'cancelled') + (NEW.status = 'cancelled'),
    total_duration_ms = total_duration_ms
      + CASE WHEN NEW.status = 'completed' THEN CAST(coalesce(NEW.duration, 0) * 1000 AS INTEGER) ELSE 0 END
      - CASE WHEN OLD.status = 'completed' THEN CAST(coalesce(OLD.duration, 0) * 1000 AS INTEGER) ELSE 0 END,
    last_completed_time = CASE
      WHEN NEW.status IN ('completed', 'failed') AND NEW.end_time IS NOT NULL
        THEN max(coalesce(last_completed_time, 0), NEW.end_time)
      ELSE last_completed_time END,
    version = version + 1;
END;
-- Jobs marked dispatched but not yet confirmed sent: the next tick sends them first.
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, attempt INTEGER NOT NULL);
-- Limiter leases freed here but not yet handed back: returned with the next limiter call.
CREATE TABLE IF NOT EXISTS releases (lease TEXT PRIMARY KEY);
`;

/** ISO 8601 UTC with milliseconds: the one format of next_attempt_at. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

export class CallLedger {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    // Ledgers created before dial confirmation was recorded gain the column (their active calls count as confirmed).
    const cols = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('calls')").toArray();
    if (!cols.some((c) => c.name === "dial_confirmed")) sql.exec("ALTER TABLE calls ADD COLUMN dial_confirmed INTEGER NOT NULL DEFAULT 1");
  }

  private one<T>(query: string, ...params: SqlStorageValue[]): T | null {
    return (this.sql.exec(query, ...params).toArray()[0] as T | undefined) ?? null;
  }

  private changed(query: string, ...params: SqlStorageValue[]): boolean {
    return this.sql.exec(query, ...params).rowsWritten > 0;
  }

  // ---- the batch row ------------------------------------------------------

  createBatch(status: BatchStatus): void {
    this.sql.exec("INSERT OR IGNORE INTO batch (id, status) VALUES (1, ?)", status);
  }

  batch(): LedgerBatch | null {
    return this.one<LedgerBatch>("SELECT * FROM batch WHERE id = 1");
  }

  /** A conditional status change; true if it happened. */
  setStatus(from: BatchStatus[], to: BatchStatus, extra: { completedTime?: number | null; passPlusOne?: boolean } = {}): boolean {
    const sets = ["status = ?", "version = version + 1"];
    const params: SqlStorageValue[] = [to];
    if (extra.completedTime !== undefined) {
      sets.push("completed_time = ?");
      params.push(extra.completedTime);
    }
    if (extra.passPlusOne) sets.push("pass = pass + 1");
    const marks = from.map(() => "?").join(", ");
    return this.changed(`UPDATE batch SET ${sets.join(", ")} WHERE id = 1 AND status IN (${marks})`, ...params, ...from);
  }

  // ---- materialising ------------------------------------------------------

  /**
   * Adds a slice of rows (`[[seq, e164, [values…]], …]`), leaving out the
   * seqs intake found on the do-not-call list. A slice already added (a
   * resumed materialisation) adds nothing: seq is the primary key.
   */
  insertSlice(sliceJson: string): number {
    return this.sql.exec(
      `INSERT OR IGNORE INTO calls (seq, phone_number, metadata)
       SELECT j.value ->> 0, j.value ->> 1, j.value -> 2 FROM json_each(?) AS j
       WHERE NOT EXISTS (SELECT 1 FROM suppressed WHERE suppressed.seq = j.value ->> 0)`,
      sliceJson,
    ).rowsWritten;
  }

  setSuppressed(seqs: number[]): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS suppressed (seq INTEGER PRIMARY KEY)");
    this.sql.exec("INSERT OR IGNORE INTO suppressed (seq) SELECT value FROM json_each(?)", JSON.stringify(seqs));
  }

  countCalls(): number {
    return Number(this.one<{ n: number }>("SELECT count(*) AS n FROM calls")?.n ?? 0);
  }

  /** After materialising: every call is waiting. */
  setTotals(total: number): void {
    this.sql.exec("UPDATE batch SET total_calls = ?1, waiting_count = ?1, version = version + 1 WHERE id = 1", total);
  }

  // ---- the scheduler's reads ----------------------------------------------

  /**
   * Calls ready for their next attempt: overdue callbacks first (by due
   * time), then first attempts from `cursor` on in file order. Calls
   * already handed to the queue are not candidates.
   */
  dueCandidates(now: number, cursor: number, limit: number, tzColumn: number): { callbacks: Candidate[]; firsts: Candidate[] } {
    const tz = tzColumn >= 0 ? `metadata ->> ${tzColumn}` : "NULL";
    const callbacks = this.sql
      .exec<Candidate>(
        `SELECT seq, attempts, phone_number AS phone, ${tz} AS tz FROM calls INDEXED BY calls_due
         WHERE status = 'waiting' AND due_at > 0 AND due_at <= ? AND dispatched_attempt = attempts
         ORDER BY due_at LIMIT ?`,
        now,
        limit,
      )
      .toArray();
    const firsts = this.sql
      .exec<Candidate>(
        `SELECT seq, attempts, phone_number AS phone, ${tz} AS tz FROM calls NOT INDEXED
         WHERE seq >= ? AND status = 'waiting' AND due_at = 0 AND dispatched_attempt = attempts
         ORDER BY seq LIMIT ?`,
        cursor,
        limit,
      )
      .toArray();
    return { callbacks, firsts };
  }

  /** When something next needs the scheduler: a callback coming due, a lease running out, a dispatch going stale. */
  dueTimes(): { callback: number | null; lease: number | null; dispatched: number | null } {
    const t = (q: string) => this.one<{ t: number | null }>(q)?.t ?? null;
    return {
      // Due calls already handed to the queue are the dispatch's to watch, not the callbacks'.
      callback: t("SELECT min(due_at) AS t FROM calls INDEXED BY calls_due WHERE status = 'waiting' AND due_at > 0 AND dispatched_attempt = attempts"),
      lease: t("SELECT min(lease_expires_at) AS t FROM calls INDEXED BY calls_active WHERE status = 'active'"),
      dispatched: t("SELECT min(dispatched_at) AS t FROM calls INDEXED BY calls_dispatched WHERE status = 'waiting' AND dispatched_attempt > attempts"),
    };
  }

  /**
   * Active attempts whose lease ran out. `confirmed` is false for an
   * attempt nothing was heard of since its claim (no provider answer, no
   * status report): its dial may never have happened.
   */
  expiredActive(now: number, limit = 100): ExpiredAttempt[] {
    return this.sql
      .exec<Omit<ExpiredAttempt, "confirmed"> & { confirmed: number }>(
        `SELECT seq, attempts, phone_number, start_time, dial_confirmed AS confirmed
         FROM calls INDEXED BY calls_active WHERE status = 'active' AND lease_expires_at <= ? LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ ...r, confirmed: Boolean(r.confirmed) }));
  }

  // ---- dispatch -----------------------------------------------------------

  /**
   * Marks attempts as handed to the queue and records them in the outbox,
   * in one synchronous step; returns the jobs marked. Only unmarked
   * attempts of a running batch are marked. Each row is found by its key.
   */
  markDispatched(jobs: { seq: number; attempt: number }[], now: number): { seq: number; attempt: number }[] {
    if (this.batch()?.status !== "processing") return [];
    const marked: { seq: number; attempt: number }[] = [];
    for (const j of jobs) {
      const ok = this.changed(
        `UPDATE calls SET dispatched_attempt = ?2, dispatched_at = ?3
         WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2 - 1`,
        j.seq,
        j.attempt,
        now,
      );
      if (ok) {
        this.sql.exec("INSERT OR REPLACE INTO outbox (seq, attempt) VALUES (?, ?)", j.seq, j.attempt);
        marked.push(j);
      }
    }
    return marked;
  }

  outbox(): { seq: number; attempt: number }[] {
    return this.sql.exec<{ seq: number; attempt: number }>("SELECT seq, attempt FROM outbox ORDER BY seq").toArray();
  }

  clearOutbox(jobs: { seq: number }[]): void {
    for (const j of jobs) this.sql.exec("DELETE FROM outbox WHERE seq = ?", j.seq);
  }

  /** Moves calls outside the calling window to the window's next opening. */
  deferCalls(items: { seq: number; dueAt: number }[]): void {
    for (const i of items) {
      this.sql.exec(
        "UPDATE calls SET due_at = ?2, next_attempt_at = ?3 WHERE seq = ?1 AND status = 'waiting' AND dispatched_attempt = attempts",
        i.seq,
        i.dueAt,
        isoMs(i.dueAt),
      );
    }
  }

  /** Dispatched jobs heard of again (waiting at the rate gate): not lost, so their stale clock restarts. */
  touchDispatched(jobs: { seq: number; attempt: number }[], now: number): void {
    for (const j of jobs) {
      this.sql.exec(
        "UPDATE calls SET dispatched_at = ?3 WHERE seq = ?1 AND status = 'waiting' AND dispatched_attempt = ?2 AND attempts = ?2 - 1",
        j.seq,
        j.attempt,
        now,
      );
    }
  }

  /** Dispatched attempts nobody claimed in time (a lost message): handed back, due at once. */
  reclaimStaleDispatches(before: number): { seq: number; attempt: number }[] {
    return this.sql
      .exec<{ seq: number; attempt: number }>(
        `UPDATE calls INDEXED BY calls_dispatched SET dispatched_attempt = attempts, due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END
         WHERE status = 'waiting' AND dispatched_attempt > attempts AND dispatched_at <= ?
         RETURNING seq, dispatched_attempt + 1 AS attempt`,
        before,
      )
      .toArray();
  }

  // ---- one attempt --------------------------------------------------------

  call(seq: number): CallRow | null {
    return this.one<CallRow>("SELECT * FROM calls WHERE seq = ?", seq);
  }

  /**
   * waiting → active for attempt `attempt`: only if that attempt was
   * dispatched, nobody claimed it yet, and the batch is running. Stamps the
   * call's and the batch's start with the instant the rate gate admitted it.
   */
  claim(seq: number, attempt: number, startedAt: number, leaseExpiresAt: number): boolean {
    if (this.batch()?.status !== "processing") return false;
    const ok = this.changed(
      `UPDATE calls SET status = 'active', attempts = ?2, outcome = NULL, error = NULL, provider_call_id = NULL, dial_confirmed = 0,
         start_time = ?3, end_time = NULL, duration = NULL, next_attempt_at = NULL, lease_expires_at = ?4
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
      seq,
      attempt,
      startedAt,
      leaseExpiresAt,
    );
    if (ok) this.sql.exec("UPDATE batch SET start_time = coalesce(start_time, ?) WHERE id = 1", startedAt);
    return ok;
  }

  /** active → waiting for an attempt that was never dialled (a provider 429). It stays dispatched: the queue's retry claims it again. */
  unclaim(seq: number, attempt: number): boolean {
    return this.changed(
      `UPDATE calls SET status = 'waiting', attempts = ?2 - 1, lease_expires_at = NULL, start_time = NULL
       WHERE seq = ?1 AND status = 'active' AND attempts = ?2 AND provider_call_id IS NULL`,
      seq,
      attempt,
    );
  }

  /** Takes back a dispatched but unclaimed attempt (paused batch, lapsed reservation); it is due at once. */
  undispatch(seq: number, attempt: number): boolean {
    return this.changed(
      `UPDATE calls SET dispatched_attempt = ?2 - 1, due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
      seq,
      attempt,
    );
  }

  /** A dispatched, unclaimed attempt that must not be dialled (do-not-call, dead-lettered). */
  closeUndialled(seq: number, attempt: number, status: "cancelled" | "failed", outcome: string | null, error: string, now: number): boolean {
    return this.changed(
      `UPDATE calls SET status = ?3, outcome = ?4, error = ?5, end_time = ?6, due_at = 0, next_attempt_at = NULL
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 - 1 AND dispatched_attempt = ?2`,
      seq,
      attempt,
      status,
      outcome,
      error,
      now,
    );
  }

  /** A waiting call not yet dispatched that must not be dialled (do-not-call found at dispatch). */
  closeWaiting(seq: number, attempts: number, error: string, now: number): boolean {
    return this.changed(
      `UPDATE calls SET status = 'cancelled', error = ?3, end_time = ?4, due_at = 0, next_attempt_at = NULL
       WHERE seq = ?1 AND status = 'waiting' AND attempts = ?2 AND dispatched_attempt = attempts`,
      seq,
      attempts,
      error,
      now,
    );
  }

  /** Every waiting call to one of `phones` (dispatched or not) is cancelled; a claim then finds nothing. */
  /** Cancels these numbers' waiting calls; returns them, and which of them held a dispatched job (its reservation is now free). */
  cancelNumbers(phones: string[], error: string, now: number): { cancelled: number; dispatched: { seq: number; attempt: number }[] } {
    const rows = this.sql
      .exec<{ seq: number; attempt: number; held: number }>(
        `UPDATE calls SET status = 'cancelled', error = ?2, end_time = ?3, due_at = 0, next_attempt_at = NULL
         WHERE status = 'waiting' AND phone_number IN (SELECT value FROM json_each(?1))
         RETURNING seq, dispatched_attempt AS attempt, dispatched_attempt > attempts AS held`,
        JSON.stringify(phones),
        error,
        now,
      )
      .toArray();
    return { cancelled: rows.length, dispatched: rows.filter((r) => r.held).map((r) => ({ seq: r.seq, attempt: r.attempt })) };
  }

  /**
   * The dial of an active attempt is confirmed (the provider answered, or a
   * status report arrived): its lease becomes the call's full lease from
   * its start. `error` records a create request whose result is unknown.
   */
  confirmDial(seq: number, attempt: number, confirm: { providerCallId?: string; error?: string; callLeaseMs: number }): void {
    this.sql.exec(
      `UPDATE calls SET provider_call_id = coalesce(provider_call_id, ?3), error = coalesce(?4, error), dial_confirmed = 1,
         lease_expires_at = max(lease_expires_at, start_time + ?5)
       WHERE seq = ?1 AND attempts = ?2 AND status = 'active'`,
      seq,
      attempt,
      confirm.providerCallId ?? null,
      confirm.error ?? null,
      confirm.callLeaseMs,
    );
  }

  /**
   * A dial that got no response at all (connection refused, DNS, TLS):
   * its error is recorded, and the attempt stays unconfirmed with the
   * claim's short lease, so the tick settles it within DIAL_CONFIRM_MS
   * unless a status report confirms it first. An active attempt is
   * unreachable exactly when it is unconfirmed and has an error: a claim
   * clears the error and any confirmation sets dial_confirmed.
   */
  recordUnreachable(seq: number, attempt: number, error: string): boolean {
    return this.changed("UPDATE calls SET error = ?3 WHERE seq = ?1 AND attempts = ?2 AND status = 'active' AND dial_confirmed = 0", seq, attempt, error);
  }

  /** What an active, unconfirmed attempt ran into when it was dialled (recordUnreachable), or null. */
  unreachableError(seq: number, attempt: number): string | null {
    return (
      this.one<{ error: string }>(
        "SELECT error FROM calls WHERE seq = ? AND attempts = ? AND status = 'active' AND dial_confirmed = 0 AND error IS NOT NULL",
        seq,
        attempt,
      )?.error ?? null
    );
  }

  /** Every active attempt whose dial got no response (recordUnreachable): a cancelled batch settles these at once. */
  unreachableActive(): { seq: number; attempt: number; error: string }[] {
    return this.sql
      .exec<{ seq: number; attempt: number; error: string }>(
        `SELECT seq, attempts AS attempt, error FROM calls INDEXED BY calls_active
         WHERE status = 'active' AND dial_confirmed = 0 AND error IS NOT NULL`,
      )
      .toArray();
  }

  /** active → the attempt's result, exactly once per attempt. `dueAt` > 0: a callback then. */
  finish(
    seq: number,
    attempt: number,
    end: { status: CallStatus; outcome: string; endTime: number; duration: number | null; error: string | null; dueAt: number },
  ): boolean {
    return this.changed(
      `UPDATE calls SET status = ?3, outcome = ?4, end_time = ?5, duration = ?6, error = ?7, due_at = ?8, lease_expires_at = NULL, next_attempt_at = ?9
       WHERE seq = ?1 AND attempts = ?2 AND status = 'active'`,
      seq,
      attempt,
      end.status,
      end.outcome,
      end.endTime,
      end.duration,
      end.error,
      end.dueAt,
      end.dueAt > 0 ? isoMs(end.dueAt) : null,
    );
  }

  // ---- batch-wide changes ---------------------------------------------------

  /** Cancels every waiting call; returns the ones that held a dispatched job (their reservations are now free). */
  cancelWaiting(): { seq: number; attempt: number }[] {
    const dispatched = this.sql
      .exec<{ seq: number; attempt: number }>(
        "SELECT seq, dispatched_attempt AS attempt FROM calls INDEXED BY calls_dispatched WHERE status = 'waiting' AND dispatched_attempt > attempts",
      )
      .toArray();
    this.sql.exec("UPDATE calls SET status = 'cancelled', error = 'batch cancelled', due_at = 0, next_attempt_at = NULL WHERE status = 'waiting'");
    return dispatched;
  }

  hasRetryable(outcomes: readonly string[]): boolean {
    const marks = outcomes.map(() => "?").join(", ");
    return this.one(`SELECT 1 AS x FROM calls WHERE status = 'failed' AND outcome IN (${marks}) LIMIT 1`, ...outcomes) !== null;
  }

  /** A new pass: retryable failures wait again with a fresh callback budget. */
  requeue(outcomes: readonly string[]): number {
    const marks = outcomes.map(() => "?").join(", ");
    return this.sql
      .exec(
        `UPDATE calls SET status = 'waiting', due_at = 0, next_attempt_at = NULL, pass_base = attempts, dispatched_attempt = attempts, error = NULL
         WHERE status = 'failed' AND outcome IN (${marks}) RETURNING seq`,
        ...outcomes,
      )
      .toArray().length;
  }

  // ---- pending limiter releases -------------------------------------------

  addReleases(leases: string[]): void {
    for (const l of leases) this.sql.exec("INSERT OR IGNORE INTO releases (lease) VALUES (?)", l);
  }

  releases(): string[] {
    return this.sql
      .exec<{ lease: string }>("SELECT lease FROM releases")
      .toArray()
      .map((r) => r.lease);
  }

  clearReleases(leases: string[]): void {
    for (const l of leases) this.sql.exec("DELETE FROM releases WHERE lease = ?", l);
  }

  // ---- reads for the API ----------------------------------------------------

  /** A page of calls in file order (by the primary key, or the status index). */
  listCalls(status: CallStatus | null, limit: number, offset: number): CallRow[] {
    return status
      ? this.sql.exec<CallRow>("SELECT * FROM calls WHERE status = ? ORDER BY seq LIMIT ? OFFSET ?", status, limit, offset).toArray()
      : this.sql.exec<CallRow>("SELECT * FROM calls ORDER BY seq LIMIT ? OFFSET ?", limit, offset).toArray();
  }

  callsAfter(afterSeq: number, limit: number): CallRow[] {
    return this.sql.exec<CallRow>("SELECT * FROM calls WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit).toArray();
  }

  recentCalls(limit: number): CallRow[] {
    return this.sql.exec<CallRow>("SELECT * FROM calls INDEXED BY calls_recent WHERE end_time IS NOT NULL ORDER BY end_time DESC LIMIT ?", limit).toArray();
  }

  // ---- bounded reads: a wide row's metadata never leaves SQLite whole unless asked for

  /** The most recently ended calls, their metadata as an excerpt (see excerptColumn). */
  recentCallExcerpts(limit: number, excerpt: MetadataExcerpt): CallRow[] {
    return this.sql
      .exec<CallRow>(
        `SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata FROM calls INDEXED BY calls_recent
         WHERE end_time IS NOT NULL ORDER BY end_time DESC LIMIT ?`,
        limit,
      )
      .toArray();
  }

  /** These calls, in the order asked, their metadata as an excerpt. */
  callExcerpts(seqs: number[], excerpt: MetadataExcerpt): CallRow[] {
    const rows = this.sql
      .exec<CallRow>(
        `SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata FROM calls WHERE seq IN (SELECT value FROM json_each(?))`,
        JSON.stringify(seqs),
      )
      .toArray();
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    return seqs.flatMap((s) => bySeq.get(s) ?? []);
  }

  /** listCalls' page with each row's metadata as an excerpt, and the stored metadata's size in bytes. */
  listCallExcerpts(status: CallStatus | null, limit: number, offset: number, excerpt: MetadataExcerpt): (CallRow & { metadata_bytes: number })[] {
    const select = `SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata, octet_length(metadata) AS metadata_bytes FROM calls`;
    return status
      ? this.sql.exec<CallRow & { metadata_bytes: number }>(`${select} WHERE status = ? ORDER BY seq LIMIT ? OFFSET ?`, status, limit, offset).toArray()
      : this.sql.exec<CallRow & { metadata_bytes: number }>(`${select} ORDER BY seq LIMIT ? OFFSET ?`, limit, offset).toArray();
  }

  /** One call's stored metadata (a JSON array of its CSV values). */
  callMetadata(seq: number): string | null {
    return this.one<{ metadata: string }>("SELECT metadata FROM calls WHERE seq = ?", seq)?.metadata ?? null;
  }

  /**
   * callsAfter, also cut short once the rows' stored metadata passes
   * `maxBytes` (at least one row): a page of wide rows stays small. Keyset
   * paging, so a shorter page loses nothing: the next starts after its last seq.
   */
  callsAfterWithin(afterSeq: number, limit: number, maxBytes: number): CallRow[] {
    const sizes = this.sql
      .exec<{ seq: number; n: number }>("SELECT seq, octet_length(metadata) AS n FROM calls WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit)
      .toArray();
    if (sizes.length === 0) return [];
    let last = sizes[0]!.seq;
    let total = sizes[0]!.n;
    for (const s of sizes.slice(1)) {
      total += s.n;
      if (total > maxBytes) break;
      last = s.seq;
    }
    return this.sql.exec<CallRow>("SELECT * FROM calls WHERE seq > ? AND seq <= ? ORDER BY seq", afterSeq, last).toArray();
  }
}

/** How much of a row's metadata an excerpt reads: its first `columns` values, each cut to `chars` characters. */
export type MetadataExcerpt = { columns: number; chars: number };

/** Every `calls` column a CallRow has, but metadata. */
const ROW_FIELDS =
  "seq, phone_number, status, outcome, attempts, next_attempt_at, start_time, end_time, duration, error, " +
  "dispatched_attempt, dispatched_at, pass_base, due_at, provider_call_id, lease_expires_at";

/** A JSON array of the first values of `metadata`, each cut in SQL, so only the excerpt reaches the object's heap. */
function excerptColumn({ columns, chars }: MetadataExcerpt): string {
  const n = Math.max(1, Math.floor(columns));
  const c = Math.max(1, Math.floor(chars));
  return `json_array(${Array.from({ length: n }, (_, i) => `substr(metadata ->> ${i}, 1, ${c})`).join(", ")})`;
}
