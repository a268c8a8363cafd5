/**
 * The few calls the scheduler watches — attempts on the queue not yet
 * claimed, attempts active now — without an index over them: an index
 * entry would cost a row written at every dispatch and every claim. The
 * calls rows stay the truth; this instance remembers which seqs to look
 * at (every seq it marked since it started, and on its first use the ones
 * an earlier instance left, found by one walk of the batch), and each read
 * asks those rows, by key, which still match, and forgets the others. So
 * a read costs what the watched calls number (at most what the limiter
 * admitted), never what the batch holds.
 */
import type { ExpiredAttempt } from "./rows";

export class WatchedCalls<T extends { seq: number }> {
  /** Seqs that may match; null until the walk that loads them. */
  private seqs: Set<number> | null = null;

  /** `where`: what a watched row is (on `calls`); `columns`: what a read returns of it. */
  constructor(
    private readonly sql: SqlStorage,
    private readonly where: string,
    private readonly columns: string,
  ) {}

  /** Calls that have just come to match (marked dispatched, claimed). */
  add(seqs: number[]): void {
    const known = this.load();
    for (const s of seqs) known.add(s);
  }

  /** The watched calls that match now, in seq order. */
  rows(): T[] {
    const known = this.load();
    if (known.size === 0) return [];
    const rows = this.sql
      .exec<T>(`SELECT ${this.columns} FROM calls WHERE seq IN (SELECT value FROM json_each(?)) AND ${this.where} ORDER BY seq`, JSON.stringify([...known]))
      .toArray();
    this.seqs = new Set(rows.map((r) => r.seq));
    return rows;
  }

  /** One aggregate (`expr`) over the watched calls that match now, or null with none: no row made into an object. */
  value<V extends SqlStorageValue>(expr: string): V | null {
    const known = this.load();
    if (known.size === 0) return null;
    const q = `SELECT ${expr} AS v FROM calls WHERE seq IN (SELECT value FROM json_each(?)) AND ${this.where}`;
    return this.sql.exec<{ v: V | null }>(q, JSON.stringify([...known])).one().v;
  }

  private load(): Set<number> {
    if (this.seqs) return this.seqs;
    // Once per instance: what an earlier instance did is only on the rows.
    const rows = this.sql.exec<{ seq: number }>(`SELECT seq FROM calls NOT INDEXED WHERE ${this.where}`).toArray();
    this.seqs = new Set(rows.map((r) => r.seq));
    return this.seqs;
  }
}

export type InFlightJob = { seq: number; attempt: number; at: number };

/** Attempts handed to the queue and not yet claimed, oldest dispatch (or last word from the rate gate) first. */
export class InFlight {
  private readonly calls: WatchedCalls<InFlightJob>;

  constructor(sql: SqlStorage) {
    this.calls = new WatchedCalls(
      sql,
      "status = 'waiting' AND dispatched_attempt > attempts",
      "seq, dispatched_attempt AS attempt, coalesce(dispatched_at, 0) AS at",
    );
  }

  add(seqs: number[]): void {
    this.calls.add(seqs);
  }

  list(): InFlightJob[] {
    return this.calls.rows().sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** When the oldest job in flight was dispatched, or null with none. */
  oldest(): number | null {
    return this.calls.value<number>("min(coalesce(dispatched_at, 0))");
  }

  count(): number {
    return this.calls.value<number>("count(*)") ?? 0;
  }
}

/** An active attempt, as the lease expiry and the unreachable-dial check read it. */
export type LiveCall = {
  seq: number;
  attempts: number;
  phone_number: string;
  dial_from: string | null;
  start_time: number | null;
  lease_expires_at: number | null;
  dial_confirmed: number;
  error: string | null;
};

/** The calls active now (claimed, dialling or talking): at most the concurrency the limiter allows. */
export function liveCalls(sql: SqlStorage): WatchedCalls<LiveCall> {
  return new WatchedCalls(
    sql,
    "status = 'active'",
    "seq, attempts, coalesce(dial_to, phone_number) AS phone_number, dial_from, start_time, lease_expires_at, dial_confirmed, error",
  );
}

/** The active attempts whose lease ran out by `now`; `confirmed` false: nothing was heard since the claim. */
export function expiredOf(rows: LiveCall[], now: number, limit: number): ExpiredAttempt[] {
  return rows
    .filter((r) => r.lease_expires_at !== null && r.lease_expires_at <= now)
    .slice(0, limit)
    .map((r) => ({
      seq: r.seq,
      attempts: r.attempts,
      phone_number: r.phone_number,
      dial_from: r.dial_from,
      start_time: r.start_time,
      confirmed: r.dial_confirmed === 1,
    }));
}

/** The active attempts whose dial got no response (an error recorded, never confirmed). */
export function unreachableOf(rows: LiveCall[]): { seq: number; attempt: number; error: string }[] {
  return rows.flatMap((r) => (r.dial_confirmed === 0 && r.error !== null ? [{ seq: r.seq, attempt: r.attempts, error: r.error }] : []));
}
