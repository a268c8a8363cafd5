import type { CallRow, LedgerBatch, ResultCounters } from "../../db/call-ledger";
import { isTestSeq } from "../../domain/test-call";
import type { CallStatus } from "../../domain/vocabulary";
import { statusBody } from "../../views/batch-status";
import { boundedCalls, changedCalls, EXCERPT_CHARS, EXCERPT_COLUMNS, recentCallRows, type CallView } from "../../views/call";
import { alarmAt } from "./clock";
import type { BatchContext } from "./context";
import type { CallDetail, EngineState, ExportRow, Progress, SchedulerState } from "./contract";
import { pageStart } from "./page-keys";
import { ProgressFeed } from "./progress-feed";
import * as testCalls from "./test-call-reports";

// What callers read: the live event stream, progress, pages of calls, and
// the operator's view of the engine. Each read is one snapshot of the
// ledger: no await between the rows and the counters sent with them.

/** What a page's rows carry of their metadata, as views/call reads it (one character more than shown, so a cut is known). */
const PAGE_EXCERPT = { columns: EXCERPT_COLUMNS, chars: EXCERPT_CHARS + 1 };

/** The live event stream, one feed per instance shared by every subscriber. */
export async function subscribe(c: BatchContext, state: SchedulerState): Promise<Response> {
  const { columns } = await c.config();
  c.feed ??= new ProgressFeed({
    status: () => {
      const b = c.ledger.batch();
      // The budget as last read or edited here (subscribe read the config just before).
      const budget = { max_minutes: c.lastConfig?.maxMinutes ?? null };
      return b ? statusBody(state.batchId, { ...b, ...c.ledger.results.counters(), ...budget }, columns, recentCallRows(c.ledger, 10)) : null;
    },
    // Metadata excerpts only: what a subscriber is sent stays small however wide the file.
    calls: (seqs) => changedCalls(c.ledger, state.batchId, columns, seqs),
    version: () => c.ledger.batch()?.version ?? 0,
  });
  return c.feed.subscribe();
}

/** Status, counters and times as the ledger has them now, with the most recent calls. */
export function progress(c: BatchContext, b: LedgerBatch, recent: number): Progress {
  return { ...b, ...c.ledger.results.counters(), recent: recentCallRows(c.ledger, recent) };
}

/** What a /calls page asks for: page mode (`offset`) or, with `afterSeq` (a decoded cursor), the calls after that seq. */
export type CallPageAsk = {
  status: CallStatus | null;
  limit: number;
  offset: number;
  maxBytes?: number;
  disposition?: string | null;
  afterSeq?: number | null;
};

/**
 * A page of calls, at most `maxBytes` of JSON however wide the rows (views/call boundedCalls), with the counters,
 * and `next`: the seq of the page's last call when more calls match after it (the next page's cursor), else null.
 * A deep page starts from a key (page-keys), so its cost does not grow with its depth.
 */
export async function listCalls(
  c: BatchContext,
  state: SchedulerState,
  page: CallPageAsk,
): Promise<{ calls: CallView[]; batch: LedgerBatch & ResultCounters; next: number | null }> {
  const { columns } = await c.config();
  // No await from here on: the page and the counters are one snapshot of the ledger.
  const b = c.ledger.batch()!;
  const filter = { status: page.status, disposition: page.disposition ?? null };
  const start =
    page.afterSeq === undefined || page.afterSeq === null ? pageStart(c.sql, c.ledger, b, filter, page.offset) : { afterSeq: page.afterSeq, offset: 0 };
  // One call more than the page: whether there is a next page, without a second query.
  const rows = c.ledger.listCallExcerpts({ ...filter, afterSeq: start.afterSeq }, page.limit + 1, start.offset, PAGE_EXCERPT);
  const more = rows.length > page.limit;
  if (more) rows.pop();
  const calls = boundedCalls(state.batchId, columns, { rows, metadataOf: (seq) => c.ledger.callMetadata(seq) }, page.maxBytes);
  const counters = c.ledger.results.counters();
  // /status shows the largest labels only; a filtered page's total is exact whatever its label.
  // defineProperty, not assignment: a label such as "__proto__" is a key like any other.
  if (page.disposition) {
    Object.defineProperty(counters.dispositions, page.disposition, {
      value: c.ledger.results.dispositionCount(page.disposition),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { calls, batch: { ...b, ...counters }, next: more ? rows.at(-1)!.seq : null };
}

/** One call whole: its row with its latest result, and every finished attempt. */
export async function callDetail(c: BatchContext, seq: number): Promise<CallDetail | null> {
  if (isTestSeq(seq)) return testCalls.callDetail(c, seq);
  const config = await c.config();
  const row = c.ledger.callWithResult(seq);
  const b = c.ledger.batch();
  if (!row || !b) return null;
  return {
    row,
    attempts: c.ledger.results.attempts(seq),
    result: row.result ?? null,
    transcriptKeys: c.ledger.results.transcriptKeys(seq),
    columns: config.columns,
    agentId: config.agent.id,
    batchStatus: b.status,
  };
}

/** callsAfter with each call's result and, for results.jsonl, its finished attempts (one query for the page's history). */
export function exportAfter(c: BatchContext, afterSeq: number, limit: number, maxBytes: number, withAttempts: boolean): ExportRow[] {
  const rows = c.ledger.callsAfterWithin(afterSeq, limit, maxBytes).map((r) => ({ ...r, result: r.result ?? null }));
  if (!withAttempts || rows.length === 0) return rows;
  const history = c.ledger.results.attemptsBetween(afterSeq, rows.at(-1)!.seq);
  return rows.map((r) => ({ ...r, attemptList: history.get(r.seq) ?? [] }));
}

/** Export columns for data fields: the agent's declared fields in order, then names seen in reports (first seen first). */
export async function resultFields(c: BatchContext): Promise<string[]> {
  const declared = (await c.config()).agent.result_schema?.fields?.map((f) => f.name) ?? [];
  return [...new Set([...declared, ...c.ledger.results.dataFields()])];
}

/** Calls after `afterSeq` in file order, at most `limit` and about `maxBytes` of metadata: keyset pages for exports that walk a whole batch. */
export function callsAfter(c: BatchContext, afterSeq: number, limit: number, maxBytes: number): CallRow[] {
  return c.ledger.callsAfterWithin(afterSeq, limit, maxBytes);
}

/** What an operator needs to see whether the batch's clock and summary are sound (GET /v1/admin/batches/{id}/engine). */
export async function engineState(c: BatchContext, state: SchedulerState, b: LedgerBatch): Promise<EngineState> {
  const alarm = await alarmAt(c);
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
