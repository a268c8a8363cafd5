export type ApiKeyRow = {
  id: string;
  workspace_id: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
};

/** What authenticating a request needs of a key: whose it is, its hash, whether it was revoked. */
export type ApiKeyAuth = Pick<ApiKeyRow, "workspace_id" | "secret_hash" | "revoked_at">;

export async function findApiKey(db: D1Database, id: string): Promise<ApiKeyAuth | null> {
  return db.prepare("SELECT workspace_id, secret_hash, revoked_at FROM api_keys WHERE id = ?1").bind(id).first<ApiKeyAuth>();
}

/** Issues a key in one statement, only for a workspace that exists: false (nothing written) when there is none. */
export async function insertApiKey(db: D1Database, row: Omit<ApiKeyRow, "revoked_at">): Promise<boolean> {
  const inserted = await db
    .prepare(
      `INSERT INTO api_keys (id, workspace_id, secret_hash, created_at)
       SELECT ?1, id, ?3, ?4 FROM workspaces WHERE id = ?2 RETURNING id`,
    )
    .bind(row.id, row.workspace_id, row.secret_hash, row.created_at)
    .first<{ id: string }>();
  return inserted !== null;
}

/** Revoking twice keeps the first revocation time. Returns false when the key is not the workspace's. */
export async function revokeApiKey(db: D1Database, workspaceId: string, id: string, at: string): Promise<boolean> {
  const row = await db
    .prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) WHERE id = ?1 AND workspace_id = ?2 RETURNING id")
    .bind(id, workspaceId, at)
    .first<{ id: string }>();
  return row !== null;
}
