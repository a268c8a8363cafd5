import type { CallLedger, LedgerBatch } from "../../db/call-ledger";
import { type CallFilterSpec, seqSamples, seqSpan } from "../../db/ledger/reads";

/**
 * Where page n of a /calls listing starts, as a key: the page is then read
 * `seq > key` with an OFFSET of less than SAMPLE_EVERY, however deep it is
 * (SQLite's OFFSET walks every row it skips; a walk of a 200k batch was
 * quadratic). Memory only: nothing here is written, so no call pays a row
 * for it (an index or column would cost one per call).
 *
 * - Every call: the seqs are the file's valid rows numbered from 0, less
 *   those suppressed at intake, with appended rows after the last; rows are
 *   never deleted. When the seqs have no gap (max − min + 1 = total_calls,
 *   two lookups at the ends of the key) row o is seq min + o: no read at all.
 * - Otherwise, and for a status or disposition: the seq of every
 *   SAMPLE_EVERY-th matching call, from one walk of the key or of that
 *   index, kept while nothing can have moved a call in or out of the set:
 *   the ledger's version (bumped by every status and disposition change),
 *   total and counters are the same. A batch that is still dialling moves
 *   calls between statuses all the time, so its deep filtered pages walk
 *   the index once each, as OFFSET did; a paused or finished one is flat.
 */
export const SAMPLE_EVERY = 512;

/** Listings remembered per object: enough for a console's tabs. */
const MAX_LISTINGS = 8;

type Samples = { stamp: string; seqs: number[] };

/** One memory per ledger (the context opens a new one after its storage is deleted). */
const remembered = new WeakMap<CallLedger, Map<string, Samples>>();

/** A page's start: read the calls after `afterSeq` (null: from the first), skip `offset` of them. */
export type PageStart = { afterSeq: number | null; offset: number };

export function pageStart(sql: SqlStorage, ledger: CallLedger, b: LedgerBatch, filter: CallFilterSpec, offset: number): PageStart {
  if (offset < SAMPLE_EVERY) return { afterSeq: null, offset };
  const every = !filter.status && !filter.disposition;
  if (every) {
    const span = seqSpan(sql);
    if (span && span.hi - span.lo + 1 === b.total_calls) return { afterSeq: span.lo + offset - 1, offset: 0 };
  }
  const seqs = samplesOf(sql, ledger, b, filter, every);
  const i = Math.min(Math.floor(offset / SAMPLE_EVERY), seqs.length - 1);
  // Past the samples' end the listing has fewer than SAMPLE_EVERY calls left: the OFFSET stops there.
  return i < 0 ? { afterSeq: null, offset } : { afterSeq: seqs[i]! - 1, offset: offset - i * SAMPLE_EVERY };
}

function samplesOf(sql: SqlStorage, ledger: CallLedger, b: LedgerBatch, filter: CallFilterSpec, every: boolean): number[] {
  // Every call: rows only ever join at the end, so the total alone dates the samples.
  const stamp = every
    ? `${b.total_calls}`
    : [b.version, b.total_calls, b.waiting_count, b.active_count, b.completed_count, b.failed_count, b.cancelled_count].join(":");
  const key = `${filter.status ?? ""}\n${filter.disposition ?? ""}`;
  const listings = remembered.get(ledger) ?? new Map<string, Samples>();
  remembered.set(ledger, listings);
  const known = listings.get(key);
  const seqs = known?.stamp === stamp ? known.seqs : seqSamples(sql, filter, SAMPLE_EVERY);
  // Last used last: the oldest listing is the one forgotten.
  listings.delete(key);
  listings.set(key, { stamp, seqs });
  if (listings.size > MAX_LISTINGS) listings.delete(listings.keys().next().value!);
  return seqs;
}
