/**
 * The execution engine's D1 transitions. Every one is conditional on the
 * state it expects (status, attempt numbers, the batch's status), so a
 * replayed message, a second alarm or a late webhook changes nothing.
 * Batch counters follow from the calls_status_counters trigger.
 */
import type { BatchRow } from "./batch.repo";

export type DialContext = {
  batch: Pick<BatchRow, "id" | "workspace_id" | "status" | "columns">;
  call: { seq: number; status: string; attempts: number; dispatched_attempt: number; pass_base: number; phone_number: string; metadata: string };
  agent: { id: string; provider: "simulated" | "twilio" | "webhook"; from_number: string | null; voice_url: string | null; dial_url: string | null };
  limits: { callsPerSecond: number; maxConcurrentCalls: number };
  webhookUrl: string | null;
  onDnc: boolean;
};

export async function getBatchById(db: D1Database, id: string): Promise<BatchRow | null> {
  return db.prepare("SELECT * FROM batches WHERE id = ?1").bind(id).first<BatchRow>();
}

/** What applying a status event needs, in one round trip: the call, its batch's rules, and whether the workspace takes webhooks. */
export type EventContext = {
  workspace_id: string;
  batch_status: BatchRow["status"];
  smart_callback_config: string | null;
  webhook_url: string | null;
  call_status: string;
  attempts: number;
  pass_base: number;
};

export async function loadEventContext(db: D1Database, batchId: string, seq: number): Promise<EventContext | null> {
  return db
    .prepare(
      `SELECT b.workspace_id, b.status AS batch_status, b.smart_callback_config, w.webhook_url,
              c.status AS call_status, c.attempts, c.pass_base
       FROM calls c JOIN batches b ON b.id = c.batch_id JOIN workspaces w ON w.id = b.workspace_id
       WHERE c.batch_id = ?1 AND c.seq = ?2`,
    )
    .bind(batchId, seq)
    .first<EventContext>();
}

export async function workspaceLimits(db: D1Database, workspaceId: string): Promise<{ callsPerSecond: number; maxConcurrentCalls: number } | null> {
  const row = await db
    .prepare("SELECT calls_per_second AS cps, max_concurrent_calls AS mcc FROM workspaces WHERE id = ?1")
    .bind(workspaceId)
    .first<{ cps: number; mcc: number }>();
  return row ? { callsPerSecond: row.cps, maxConcurrentCalls: row.mcc } : null;
}

/** Everything the consumer needs to dial one call, in one round trip. */
export async function loadDialContext(db: D1Database, batchId: string, seq: number): Promise<DialContext | null> {
  const row = await db
    .prepare(
      `SELECT b.id AS b_id, b.workspace_id, b.status AS b_status, b.columns, b.agent_id,
              c.seq, c.status, c.attempts, c.dispatched_attempt, c.pass_base, c.phone_number, c.metadata,
              a.provider, a.from_number, a.voice_url, a.dial_url,
              w.calls_per_second, w.max_concurrent_calls AS w_mcc, w.webhook_url,
              EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = b.workspace_id AND dnc.phone_number = c.phone_number) AS on_dnc
       FROM calls c JOIN batches b ON b.id = c.batch_id JOIN agents a ON a.id = b.agent_id JOIN workspaces w ON w.id = b.workspace_id
       WHERE c.batch_id = ?1 AND c.seq = ?2`,
    )
    .bind(batchId, seq)
    .first<Record<string, never>>();
  if (!row) return null;
  const r = row as Record<string, unknown>;
  return {
    batch: {
      id: r.b_id as string,
      workspace_id: r.workspace_id as string,
      status: r.b_status as BatchRow["status"],
      columns: r.columns as string,
    },
    call: {
      seq: r.seq as number,
      status: r.status as string,
      attempts: r.attempts as number,
      dispatched_attempt: r.dispatched_attempt as number,
      pass_base: r.pass_base as number,
      phone_number: r.phone_number as string,
      metadata: r.metadata as string,
    },
    agent: {
      id: r.agent_id as string,
      provider: r.provider as DialContext["agent"]["provider"],
      from_number: r.from_number as string | null,
      voice_url: r.voice_url as string | null,
      dial_url: r.dial_url as string | null,
    },
    limits: { callsPerSecond: r.calls_per_second as number, maxConcurrentCalls: r.w_mcc as number },
    webhookUrl: r.webhook_url as string | null,
    onDnc: Boolean(r.on_dnc),
  };
}

export type Candidate = { seq: number; attempts: number; tz: string | null };

/**
 * Calls ready for their next attempt: overdue callbacks first (by due time),
 * then first attempts from `cursor` on in file order. Calls already handed
 * to the queue (dispatched_attempt > attempts) are not candidates.
 */
export async function dueCandidates(
  db: D1Database,
  batchId: string,
  now: number,
  cursor: number,
  limit: number,
  tzColumn: number,
): Promise<{ callbacks: Candidate[]; firsts: Candidate[] }> {
  const tz = tzColumn >= 0 ? `json_extract(metadata, '$[${tzColumn}]')` : "NULL";
  const [callbacks, firsts] = await db.batch<Candidate>([
    db
      .prepare(
        `SELECT seq, attempts, ${tz} AS tz FROM calls
         WHERE batch_id = ?1 AND status = 'waiting' AND due_at > 0 AND due_at <= ?2 AND dispatched_attempt = attempts
         ORDER BY due_at LIMIT ?3`,
      )
      .bind(batchId, now, limit),
    db
      .prepare(
        `SELECT seq, attempts, ${tz} AS tz FROM calls
         WHERE batch_id = ?1 AND seq >= ?2 AND status = 'waiting' AND due_at = 0 AND dispatched_attempt = attempts
         ORDER BY seq LIMIT ?3`,
      )
      .bind(batchId, cursor, limit),
  ]);
  return { callbacks: callbacks?.results ?? [], firsts: firsts?.results ?? [] };
}

/**
 * Marks attempts as handed to the queue and returns the seqs marked. Only
 * `replay` (finishing an interrupted tick's own outbox) accepts attempts
 * already marked; a fresh selection marks only what nobody has marked.
 */
export async function markDispatched(
  db: D1Database,
  batchId: string,
  jobs: { seq: number; attempt: number }[],
  now: number,
  replay = false,
): Promise<Set<number>> {
  if (jobs.length === 0) return new Set();
  const { results } = await db
    .prepare(
      `UPDATE calls SET dispatched_attempt = j.attempt, dispatched_at = ?3
       FROM (SELECT value ->> 0 AS seq, value ->> 1 AS attempt FROM json_each(?2)) AS j
       WHERE calls.batch_id = ?1 AND calls.seq = j.seq AND calls.status = 'waiting' AND calls.attempts = j.attempt - 1
         AND (calls.dispatched_attempt = j.attempt - 1 OR (?4 AND calls.dispatched_attempt = j.attempt))
         AND EXISTS (SELECT 1 FROM batches WHERE id = ?1 AND status = 'processing')
       RETURNING calls.seq AS seq`,
    )
    .bind(batchId, JSON.stringify(jobs.map((j) => [j.seq, j.attempt])), now, replay ? 1 : 0)
    .all<{ seq: number }>();
  return new Set(results.map((r) => r.seq));
}

/** Moves calls outside the calling window to the window's next opening. */
export async function deferCalls(db: D1Database, batchId: string, items: { seq: number; dueAt: number }[]): Promise<void> {
  if (items.length === 0) return;
  await db
    .prepare(
      `UPDATE calls SET due_at = j.due, next_attempt_at = strftime('%Y-%m-%dT%H:%M:%SZ', j.due / 1000, 'unixepoch')
       FROM (SELECT value ->> 0 AS seq, value ->> 1 AS due FROM json_each(?2)) AS j
       WHERE calls.batch_id = ?1 AND calls.seq = j.seq AND calls.status = 'waiting' AND calls.dispatched_attempt = calls.attempts`,
    )
    .bind(batchId, JSON.stringify(items.map((i) => [i.seq, i.dueAt])))
    .run();
}

/**
 * waiting → active for attempt `attempt`, as one statement: only if that
 * attempt was dispatched, nobody claimed it yet, and the batch is running.
 * This is the last check before a dial; it stamps the call's and the
 * batch's start with the instant the workspace's rate gate admitted it.
 */
export async function claimAttempt(db: D1Database, batchId: string, seq: number, attempt: number, startedAt: number, leaseExpiresAt: number): Promise<boolean> {
  const [call] = await db.batch([
    db
      .prepare(
        `UPDATE calls SET status = 'active', attempts = ?3, outcome = NULL, error = NULL, provider_call_id = NULL,
           start_time = ?4, end_time = NULL, duration = NULL, next_attempt_at = NULL, lease_expires_at = ?5
         WHERE batch_id = ?1 AND seq = ?2 AND status = 'waiting' AND attempts = ?3 - 1 AND dispatched_attempt = ?3
           AND EXISTS (SELECT 1 FROM batches WHERE id = ?1 AND status = 'processing')
         RETURNING seq`,
      )
      .bind(batchId, seq, attempt, startedAt, leaseExpiresAt),
    db.prepare("UPDATE batches SET start_time = coalesce(start_time, ?2) WHERE id = ?1 AND status = 'processing'").bind(batchId, startedAt),
  ]);
  return (call?.results?.length ?? 0) > 0;
}

/** An attempt handed back to the scheduler is due at once (due_at > 0), so it is found wherever the first-attempt cursor is. */
const DUE_NOW = "due_at = CASE WHEN due_at > 0 THEN due_at ELSE 1 END";

/**
 * active → waiting for an attempt that was never dialled (the provider
 * refused it with a 429). It stays dispatched: the queue's retry of the
 * same job claims it again.
 */
export async function unclaimAttempt(db: D1Database, batchId: string, seq: number, attempt: number): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE calls SET status = 'waiting', attempts = ?3 - 1, lease_expires_at = NULL, start_time = NULL
       WHERE batch_id = ?1 AND seq = ?2 AND status = 'active' AND attempts = ?3 AND provider_call_id IS NULL
       RETURNING seq`,
    )
    .bind(batchId, seq, attempt)
    .first();
  return row !== null;
}

/** Takes back a dispatched but unclaimed attempt (paused batch, lapsed lease). */
export async function undispatch(db: D1Database, batchId: string, seq: number, attempt: number): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE calls SET dispatched_attempt = ?3 - 1, ${DUE_NOW}
       WHERE batch_id = ?1 AND seq = ?2 AND status = 'waiting' AND attempts = ?3 - 1 AND dispatched_attempt = ?3
       RETURNING seq`,
    )
    .bind(batchId, seq, attempt)
    .first();
  return row !== null;
}

/** A dispatched, unclaimed attempt that must not be dialled (do-not-call, dead-lettered). */
export async function closeUndialled(
  db: D1Database,
  batchId: string,
  seq: number,
  attempt: number,
  status: "cancelled" | "failed",
  outcome: string | null,
  error: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE calls SET status = ?4, outcome = ?5, error = ?6, end_time = ?7, due_at = 0, next_attempt_at = NULL
       WHERE batch_id = ?1 AND seq = ?2 AND status = 'waiting' AND attempts = ?3 - 1 AND dispatched_attempt = ?3
       RETURNING seq`,
    )
    .bind(batchId, seq, attempt, status, outcome, error, now)
    .first();
  return row !== null;
}

export async function setProviderCallId(db: D1Database, batchId: string, seq: number, attempt: number, providerCallId: string, error: string | null = null): Promise<void> {
  await db
    .prepare(
      `UPDATE calls SET provider_call_id = coalesce(provider_call_id, ?4), error = coalesce(?5, error)
       WHERE batch_id = ?1 AND seq = ?2 AND attempts = ?3 AND status = 'active'`,
    )
    .bind(batchId, seq, attempt, providerCallId, error)
    .run();
}

export async function setAttemptError(db: D1Database, batchId: string, seq: number, attempt: number, error: string): Promise<void> {
  await db.prepare("UPDATE calls SET error = ?4 WHERE batch_id = ?1 AND seq = ?2 AND attempts = ?3 AND status = 'active'").bind(batchId, seq, attempt, error).run();
}

export type AttemptEnd = {
  status: "waiting" | "completed" | "failed" | "cancelled";
  outcome: string;
  endTime: number;
  duration: number | null;
  error: string | null;
  dueAt: number;
};

/** active → the attempt's result, exactly once per attempt. */
export async function finishAttempt(db: D1Database, batchId: string, seq: number, attempt: number, end: AttemptEnd): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE calls SET status = ?4, outcome = ?5, end_time = ?6, duration = ?7, error = ?8, due_at = ?9, lease_expires_at = NULL,
         next_attempt_at = CASE WHEN ?9 > 0 THEN strftime('%Y-%m-%dT%H:%M:%fZ', ?9 / 1000.0, 'unixepoch') END
       WHERE batch_id = ?1 AND seq = ?2 AND attempts = ?3 AND status = 'active'
       RETURNING seq`,
    )
    .bind(batchId, seq, attempt, end.status, end.outcome, end.endTime, end.duration, end.error, end.dueAt)
    .first();
  return row !== null;
}

export async function expiredActive(db: D1Database, batchId: string, now: number): Promise<{ seq: number; attempts: number }[]> {
  const { results } = await db
    .prepare("SELECT seq, attempts FROM calls WHERE batch_id = ?1 AND status = 'active' AND lease_expires_at <= ?2 LIMIT 100")
    .bind(batchId, now)
    .all<{ seq: number; attempts: number }>();
  return results;
}

/** Dispatched attempts nobody claimed in time (a lost message): handed back to the scheduler. */
export async function reclaimStaleDispatches(db: D1Database, batchId: string, before: number): Promise<{ seq: number; attempt: number }[]> {
  const { results } = await db
    .prepare(
      `UPDATE calls SET dispatched_attempt = attempts, ${DUE_NOW}
       WHERE batch_id = ?1 AND status = 'waiting' AND dispatched_attempt > attempts AND dispatched_at <= ?2
       RETURNING seq, dispatched_attempt + 1 AS attempt`,
    )
    .bind(batchId, before)
    .all<{ seq: number; attempt: number }>();
  return results;
}

/** When something in the batch next needs the scheduler: a callback coming due, a lease running out, a dispatch going stale. */
export async function nextWakeUp(db: D1Database, batchId: string): Promise<{ due: number | null; lease: number | null; dispatched: number | null }> {
  const [due, lease, dispatched] = await db.batch<{ t: number | null }>([
    db.prepare("SELECT min(due_at) AS t FROM calls WHERE batch_id = ?1 AND status = 'waiting' AND due_at > 0").bind(batchId),
    db.prepare("SELECT min(lease_expires_at) AS t FROM calls WHERE batch_id = ?1 AND status = 'active'").bind(batchId),
    db.prepare("SELECT min(dispatched_at) AS t FROM calls WHERE batch_id = ?1 AND status = 'waiting' AND dispatched_attempt > attempts").bind(batchId),
  ]);
  return { due: due?.results?.[0]?.t ?? null, lease: lease?.results?.[0]?.t ?? null, dispatched: dispatched?.results?.[0]?.t ?? null };
}

/** queued → processing; true only for the call that made the change. */
export async function markProcessing(db: D1Database, batchId: string): Promise<boolean> {
  return (await db.prepare("UPDATE batches SET status = 'processing' WHERE id = ?1 AND status = 'queued' RETURNING id").bind(batchId).first()) !== null;
}

/** processing → completed once no call can change any more. */
export async function completeIfDone(db: D1Database, batchId: string, now: number): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE batches SET status = 'completed', completed_time = ?2
       WHERE id = ?1 AND status = 'processing' AND waiting_count = 0 AND active_count = 0
       RETURNING id`,
    )
    .bind(batchId, now)
    .first();
  return row !== null;
}
