/**
 * The ledger's reads: what the scheduler needs next (due calls, due times,
 * lapsed leases) and the API's pages of calls, some with each row's
 * metadata cut to an excerpt in SQL. The bodies of CallLedger's methods of
 * the same names, as free functions of the ledger's SqlStorage.
 * Each is documented on the method, the surface its callers read.
 */
import type { CallStatus } from "../../domain/vocabulary";
import { RESULT_JSON, withResult } from "./results";
import { type CallRow, type Candidate, type MetadataExcerpt, one, type StoredCall } from "./rows";

/** A row read with RESULT_JSON. */
type Joined = StoredCall & { result_json: string | null };

// ---- the scheduler's reads ----------------------------------------------

export function dueCandidates(sql: SqlStorage, now: number, cursor: number, limit: number, tzColumn: number): { callbacks: Candidate[]; firsts: Candidate[] } {
  const tz = tzColumn >= 0 ? `metadata ->> ${tzColumn}` : "NULL";
  const callbacks = sql
    .exec<Candidate>(
      `SELECT seq, attempts, phone_number AS phone, numbers, ${tz} AS tz FROM calls INDEXED BY calls_due
         WHERE status = 'waiting' AND due_at > 0 AND due_at <= ? AND dispatched_attempt = attempts
         ORDER BY due_at LIMIT ?`,
      now,
      limit,
    )
    .toArray();
  const firsts = sql
    .exec<Candidate>(
      `SELECT seq, attempts, phone_number AS phone, numbers, ${tz} AS tz FROM calls NOT INDEXED
         WHERE seq >= ? AND status = 'waiting' AND due_at = 0 AND dispatched_attempt = attempts
         ORDER BY seq LIMIT ?`,
      cursor,
      limit,
    )
    .toArray();
  return { callbacks, firsts };
}

/** When the next callback comes due (the ledger adds the leases' and the oldest dispatch's times from the calls it watches). */
export function callbackDue(sql: SqlStorage): number | null {
  // Due calls already handed to the queue are the dispatch's to watch, not the callbacks'.
  return (
    one<{ t: number | null }>(
      sql,
      "SELECT min(due_at) AS t FROM calls INDEXED BY calls_due WHERE status = 'waiting' AND due_at > 0 AND dispatched_attempt = attempts",
    )?.t ?? null
  );
}

// ---- one call -------------------------------------------------------------

export function call(sql: SqlStorage, seq: number): CallRow | null {
  return one<StoredCall>(sql, "SELECT * FROM calls WHERE seq = ?", seq);
}

/** One call with its shown result. */
export function callWithResult(sql: SqlStorage, seq: number): CallRow | null {
  const row = one<Joined>(sql, `SELECT *, ${RESULT_JSON} FROM calls WHERE seq = ?`, seq);
  return row ? withResult(row) : null;
}

// ---- reads for the API ----------------------------------------------------

export function callsAfter(sql: SqlStorage, afterSeq: number, limit: number): CallRow[] {
  return sql.exec<StoredCall>("SELECT * FROM calls WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit).toArray();
}

const RECENT_SEQS = "(SELECT value FROM json_each((SELECT recent FROM batch WHERE id = 1)))";

function latestEnded<T extends { end_time: number | null; seq: number }>(rows: T[], limit: number): T[] {
  return rows.sort((a, b) => (b.end_time ?? 0) - (a.end_time ?? 0) || b.seq - a.seq).slice(0, limit);
}

// ---- bounded reads: a wide row's metadata never leaves SQLite whole unless asked for

/**
 * The calls that ended last, latest end first, each row's metadata cut to
 * an excerpt: the batch row's ring of the last RECENT_KEPT calls to end
 * (kept by the counters trigger), each found by its key and ordered here —
 * no index on end_time, which would cost a row written for every call that ends.
 */
export function recentCallExcerpts(sql: SqlStorage, limit: number, excerpt: MetadataExcerpt): CallRow[] {
  const rows = sql
    .exec<Joined>(`SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata, ${RESULT_JSON} FROM calls WHERE seq IN ${RECENT_SEQS} AND end_time IS NOT NULL`)
    .toArray();
  return latestEnded(rows, limit).map(withResult);
}

export function callExcerpts(sql: SqlStorage, seqs: number[], excerpt: MetadataExcerpt): CallRow[] {
  const rows = sql
    .exec<Joined>(
      `SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata, ${RESULT_JSON} FROM calls WHERE seq IN (SELECT value FROM json_each(?))`,
      JSON.stringify(seqs),
    )
    .toArray()
    .map(withResult);
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  return seqs.flatMap((s) => bySeq.get(s) ?? []);
}

/**
 * A page's filter: a status, or a disposition (the call's latest), or
 * neither; with `afterSeq`, only calls after that seq (a keyset start:
 * the page's OFFSET then counts from there, never from the first call).
 */
export type CallFilterSpec = { status: CallStatus | null; disposition?: string | null; afterSeq?: number | null };

/**
 * The FROM and WHERE of a filtered read, with its parameters. A disposition
 * names its index: its rows are few, the planner cannot know. A status
 * walks the key (no index on status: each entry would cost a row written
 * at every transition).
 */
function filterSql(filter: CallFilterSpec): { from: string; where: string; params: (string | number)[] } {
  const terms: [string, string | number][] = [];
  if (filter.disposition) terms.push(["disposition = ?", filter.disposition]);
  if (filter.status) terms.push(["status = ?", filter.status]);
  if (filter.afterSeq !== undefined && filter.afterSeq !== null) terms.push(["seq > ?", filter.afterSeq]);
  return {
    from: filter.disposition ? "calls INDEXED BY calls_by_disposition" : "calls",
    where: terms.length > 0 ? `WHERE ${terms.map(([t]) => t).join(" AND ")}` : "",
    params: terms.map(([, v]) => v),
  };
}

export function listCallExcerpts(
  sql: SqlStorage,
  filter: CallFilterSpec,
  limit: number,
  offset: number,
  excerpt: MetadataExcerpt,
): (CallRow & { metadata_bytes: number })[] {
  const { from, where, params } = filterSql(filter);
  return sql
    .exec<Joined & { metadata_bytes: number }>(
      `SELECT ${ROW_FIELDS}, ${excerptColumn(excerpt)} AS metadata, octet_length(metadata) AS metadata_bytes, ${RESULT_JSON}
         FROM ${from} ${where} ORDER BY seq LIMIT ? OFFSET ?`,
      ...params,
      limit,
      offset,
    )
    .toArray()
    .map(withResult);
}

/** The lowest and highest seq of the batch's calls (two lookups at the ends of the key), or null with none. */
export function seqSpan(sql: SqlStorage): { lo: number; hi: number } | null {
  const r = one<{ lo: number | null; hi: number | null }>(sql, "SELECT (SELECT min(seq) FROM calls) AS lo, (SELECT max(seq) FROM calls) AS hi");
  return r && r.lo !== null && r.hi !== null ? { lo: r.lo, hi: r.hi } : null;
}

/**
 * The seqs of the matching calls at positions 0, `every`, 2·`every`, … in
 * file order (`afterSeq` ignored): one walk of the key, or of the
 * disposition index (seq is in it, so no row is read), as one range read
 * per sample: each reads `every` entries, all of them together the listing
 * once. (A row_number() window reads each entry three times.)
 */
export function seqSamples(sql: SqlStorage, filter: CallFilterSpec, every: number): number[] {
  const seqs: number[] = [];
  for (let after: number | null = null; ; ) {
    const { from, where, params } = filterSql({ ...filter, afterSeq: after });
    const next: { seq: number } | null = one<{ seq: number }>(
      sql,
      `SELECT seq FROM ${from} ${where} ORDER BY seq LIMIT 1 OFFSET ?`,
      ...params,
      after === null ? 0 : every - 1,
    );
    if (!next) return seqs;
    seqs.push(next.seq);
    after = next.seq;
  }
}

export function callMetadata(sql: SqlStorage, seq: number): string | null {
  return one<{ metadata: string }>(sql, "SELECT metadata FROM calls WHERE seq = ?", seq)?.metadata ?? null;
}

export function callsAfterWithin(sql: SqlStorage, afterSeq: number, limit: number, maxBytes: number): CallRow[] {
  const sizes = sql
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
  return sql.exec<Joined>(`SELECT *, ${RESULT_JSON} FROM calls WHERE seq > ? AND seq <= ? ORDER BY seq`, afterSeq, last).toArray().map(withResult);
}

/** Every `calls` column a CallRow has, but metadata. */
const ROW_FIELDS =
  "seq, phone_number, status, outcome, attempts, next_attempt_at, start_time, end_time, duration, error, " +
  "dispatched_attempt, dispatched_at, pass_base, due_at, provider_call_id, lease_expires_at, " +
  "disposition, result_attempt, requested_callbacks, opted_out, numbers, dial_to, dial_from, wait_reason";

/** A JSON array of the first values of `metadata`, each cut in SQL, so only the excerpt reaches the object's heap. */
function excerptColumn({ columns, chars }: MetadataExcerpt): string {
  const n = Math.max(1, Math.floor(columns));
  const c = Math.max(1, Math.floor(chars));
  return `json_array(${Array.from({ length: n }, (_, i) => `substr(metadata ->> ${i}, 1, ${c})`).join(", ")})`;
}
