export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A request holds its key this long while it runs. A Worker that died
 * part-way never releases it; after the lease the same request may take
 * the key over. Uploads finish in seconds, so this only matters after a crash.
 */
export const IDEMPOTENCY_LEASE_MS = 5 * 60 * 1000;

type IdempotencyRow = {
  request_hash: string;
  state: "running" | "done";
  response_status: number | null;
  response_body: string | null;
  created_at: number;
};

/** Which claim of a key a request holds: the claim's time. Completing or publishing checks it is still the holder. */
export type IdempotencyHold = { workspaceId: string; key: string; claimedAt: number };

export type IdempotencyClaim =
  | { kind: "claimed"; hold: IdempotencyHold }
  | { kind: "replay"; status: number; body: string }
  | { kind: "mismatch" }
  | { kind: "in_progress" };

/**
 * Claims `key` for this request. The INSERT is the lock: exactly one
 * concurrent request wins it. A record older than the TTL, or a `running`
 * one whose lease ran out (its request died), is replaced by a conditional
 * UPDATE, so two late-comers cannot both take it over.
 */
export async function claimIdempotencyKey(db: D1Database, workspaceId: string, key: string, requestHash: string, now: number): Promise<IdempotencyClaim> {
  const inserted = await db
    .prepare(
      `INSERT INTO idempotency_keys (workspace_id, key, request_hash, state, created_at)
       VALUES (?1, ?2, ?3, 'running', ?4)
       ON CONFLICT (workspace_id, key) DO UPDATE
         SET request_hash = excluded.request_hash, state = 'running', response_status = NULL,
             response_body = NULL, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < ?5 OR (idempotency_keys.state = 'running' AND idempotency_keys.created_at < ?6)
       RETURNING key`,
    )
    .bind(workspaceId, key, requestHash, now, now - IDEMPOTENCY_TTL_MS, now - IDEMPOTENCY_LEASE_MS)
    .first();
  if (inserted) return { kind: "claimed", hold: { workspaceId, key, claimedAt: now } };

  const row = await db
    .prepare("SELECT request_hash, state, response_status, response_body, created_at FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2")
    .bind(workspaceId, key)
    .first<IdempotencyRow>();
  if (!row) return claimIdempotencyKey(db, workspaceId, key, requestHash, now); // released meanwhile
  if (row.request_hash !== requestHash) return { kind: "mismatch" };
  if (row.state === "running") return { kind: "in_progress" };
  return { kind: "replay", status: row.response_status ?? 201, body: row.response_body ?? "{}" };
}

export async function completeIdempotencyKey(db: D1Database, hold: IdempotencyHold, status: number, body: string): Promise<void> {
  await db
    .prepare(
      `UPDATE idempotency_keys SET state = 'done', response_status = ?4, response_body = ?5
       WHERE workspace_id = ?1 AND key = ?2 AND state = 'running' AND created_at = ?3`,
    )
    .bind(hold.workspaceId, hold.key, hold.claimedAt, status, body)
    .run();
}

/** A request that failed gives its key back (if it still holds it), so the client can retry with it. */
export async function releaseIdempotencyKey(db: D1Database, hold: IdempotencyHold): Promise<void> {
  await db
    .prepare("DELETE FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2 AND state = 'running' AND created_at = ?3")
    .bind(hold.workspaceId, hold.key, hold.claimedAt)
    .run();
}

/**
 * SQL condition (parameters ?7–?9) true while this request still holds its
 * key: a batch is published only under it, so a request that outlived its
 * lease and lost the key to a retry can never publish a second batch.
 */
export const STILL_HOLDS_KEY = `EXISTS (SELECT 1 FROM idempotency_keys WHERE workspace_id = ?7 AND key = ?8 AND state = 'running' AND created_at = ?9)`;

/**
 * The statement that completes `hold`'s key with the batch's 201, run in the
 * same D1 transaction as the publish and only if the batch is now published
 * (the publish matched): one atomic step, so one key means at most one batch.
 */
export function completeKeyIfPublished(db: D1Database, hold: IdempotencyHold, batchId: string, status: number, body: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE idempotency_keys SET state = 'done', response_status = ?4, response_body = ?5
       WHERE workspace_id = ?1 AND key = ?2 AND state = 'running' AND created_at = ?3
         AND EXISTS (SELECT 1 FROM batches WHERE id = ?6 AND status != 'preparing')`,
    )
    .bind(hold.workspaceId, hold.key, hold.claimedAt, status, body, batchId);
}
