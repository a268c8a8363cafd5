export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

type IdempotencyRow = {
  request_hash: string;
  state: "running" | "done";
  response_status: number | null;
  response_body: string | null;
  created_at: number;
};

export type IdempotencyClaim =
  | { kind: "claimed" }
  | { kind: "replay"; status: number; body: string }
  | { kind: "mismatch" }
  | { kind: "in_progress" };

/**
 * Claims `key` for this request. The INSERT is the lock: exactly one
 * concurrent request wins it; a record older than the TTL is replaced by a
 * conditional UPDATE so two late-comers cannot both take it over.
 */
export async function claimIdempotencyKey(
  db: D1Database,
  workspaceId: string,
  key: string,
  requestHash: string,
  now: number,
): Promise<IdempotencyClaim> {
  const inserted = await db
    .prepare(
      `INSERT INTO idempotency_keys (workspace_id, key, request_hash, state, created_at)
       VALUES (?1, ?2, ?3, 'running', ?4)
       ON CONFLICT (workspace_id, key) DO UPDATE
         SET request_hash = excluded.request_hash, state = 'running', response_status = NULL,
             response_body = NULL, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < ?5
       RETURNING key`,
    )
    .bind(workspaceId, key, requestHash, now, now - IDEMPOTENCY_TTL_MS)
    .first();
  if (inserted) return { kind: "claimed" };

  const row = await db
    .prepare("SELECT request_hash, state, response_status, response_body, created_at FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2")
    .bind(workspaceId, key)
    .first<IdempotencyRow>();
  if (!row) return claimIdempotencyKey(db, workspaceId, key, requestHash, now); // released meanwhile
  if (row.request_hash !== requestHash) return { kind: "mismatch" };
  if (row.state === "running") return { kind: "in_progress" };
  return { kind: "replay", status: row.response_status ?? 201, body: row.response_body ?? "{}" };
}

export async function completeIdempotencyKey(
  db: D1Database,
  workspaceId: string,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE idempotency_keys SET state = 'done', response_status = ?3, response_body = ?4 WHERE workspace_id = ?1 AND key = ?2 AND state = 'running'",
    )
    .bind(workspaceId, key, status, body)
    .run();
}

/** A request that failed gives its key back, so the client can retry with it. */
export async function releaseIdempotencyKey(db: D1Database, workspaceId: string, key: string): Promise<void> {
  await db
    .prepare("DELETE FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2 AND state = 'running'")
    .bind(workspaceId, key)
    .run();
}
