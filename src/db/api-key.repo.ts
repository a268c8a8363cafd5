export type ApiKeyRow = {
  id: string;
  workspace_id: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
};

export async function findApiKey(db: D1Database, id: string): Promise<ApiKeyRow | null> {
  return db.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(id).first<ApiKeyRow>();
}

export async function insertApiKey(db: D1Database, row: Omit<ApiKeyRow, "revoked_at">): Promise<void> {
  await db
    .prepare("INSERT INTO api_keys (id, workspace_id, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4)")
    .bind(row.id, row.workspace_id, row.secret_hash, row.created_at)
    .run();
}

/** Revoking twice keeps the first revocation time. Returns false when the key is not the workspace's. */
export async function revokeApiKey(db: D1Database, workspaceId: string, id: string, at: string): Promise<boolean> {
  const row = await db
    .prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) WHERE id = ?1 AND workspace_id = ?2 RETURNING id")
    .bind(id, workspaceId, at)
    .first<{ id: string }>();
  return row !== null;
}
