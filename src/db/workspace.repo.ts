export type WorkspaceRow = {
  id: string;
  name: string;
  calls_per_second: number;
  max_concurrent_calls: number;
  webhook_url: string | null;
  webhook_secret_enc: string;
  timezone: string | null;
  created_at: string;
};

export type Workspace = {
  workspaceId: string;
  name: string;
  rateLimits: { callsPerSecond: number; maxConcurrentCalls: number };
  webhookUrl: string | null;
  timezone: string | null;
  createdAt: string;
};

export function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    workspaceId: row.id,
    name: row.name,
    rateLimits: { callsPerSecond: row.calls_per_second, maxConcurrentCalls: row.max_concurrent_calls },
    webhookUrl: row.webhook_url,
    timezone: row.timezone,
    createdAt: row.created_at,
  };
}

export async function getWorkspace(db: D1Database, id: string): Promise<WorkspaceRow | null> {
  return db.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(id).first<WorkspaceRow>();
}

/** Creates the workspace and its first API key together, or neither. */
export async function insertWorkspaceWithKey(
  db: D1Database,
  ws: WorkspaceRow,
  key: { id: string; secretHash: string },
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO workspaces (id, name, calls_per_second, max_concurrent_calls, webhook_url, webhook_secret_enc, timezone, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
      )
      .bind(ws.id, ws.name, ws.calls_per_second, ws.max_concurrent_calls, ws.webhook_url, ws.webhook_secret_enc, ws.timezone, ws.created_at),
    db
      .prepare("INSERT INTO api_keys (id, workspace_id, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind(key.id, ws.id, key.secretHash, ws.created_at),
  ]);
}

/** An API key as an operator sees it: its id and state, never its hash. */
export type ApiKeyState = { keyId: string; state: "active" | "revoked"; createdAt: string; revokedAt: string | null };

/** The workspace and all its keys (oldest first), or null when there is no such workspace. */
export async function getWorkspaceWithKeys(db: D1Database, id: string): Promise<{ row: WorkspaceRow; keys: ApiKeyState[] } | null> {
  const [ws, keys] = await db.batch([
    db.prepare("SELECT * FROM workspaces WHERE id = ?1").bind(id),
    // Only the columns an operator may see: the secret hash never leaves the database.
    db.prepare("SELECT id, created_at, revoked_at FROM api_keys WHERE workspace_id = ?1 ORDER BY created_at, id").bind(id),
  ]);
  const row = (ws?.results?.[0] as WorkspaceRow | undefined) ?? null;
  if (!row) return null;
  const keyRows = (keys?.results ?? []) as { id: string; created_at: string; revoked_at: string | null }[];
  return {
    row,
    keys: keyRows.map((k) => ({ keyId: k.id, state: k.revoked_at === null ? "active" : "revoked", createdAt: k.created_at, revokedAt: k.revoked_at })),
  };
}

/**
 * Replaces the workspace's webhook signing secret (already encrypted).
 * Returns false when there is no such workspace.
 */
export async function setWebhookSecret(db: D1Database, id: string, secretEnc: string): Promise<boolean> {
  const row = await db.prepare("UPDATE workspaces SET webhook_secret_enc = ?2 WHERE id = ?1 RETURNING id").bind(id, secretEnc).first<{ id: string }>();
  return row !== null;
}

export type WorkspacePatch = {
  name?: string;
  callsPerSecond?: number;
  maxConcurrentCalls?: number;
  webhookUrl?: string | null;
  timezone?: string | null;
};

export async function updateWorkspace(db: D1Database, id: string, patch: WorkspacePatch): Promise<WorkspaceRow | null> {
  // COALESCE keeps a field when the patch leaves it out; the *_set flags let
  // a patch clear a nullable field explicitly.
  return db
    .prepare(
      `UPDATE workspaces SET
         name = COALESCE(?2, name),
         calls_per_second = COALESCE(?3, calls_per_second),
         max_concurrent_calls = COALESCE(?4, max_concurrent_calls),
         webhook_url = CASE WHEN ?5 THEN ?6 ELSE webhook_url END,
         timezone = CASE WHEN ?7 THEN ?8 ELSE timezone END
       WHERE id = ?1
       RETURNING *`,
    )
    .bind(
      id,
      patch.name ?? null,
      patch.callsPerSecond ?? null,
      patch.maxConcurrentCalls ?? null,
      patch.webhookUrl !== undefined ? 1 : 0,
      patch.webhookUrl ?? null,
      patch.timezone !== undefined ? 1 : 0,
      patch.timezone ?? null,
    )
    .first<WorkspaceRow>();
}

/** What a batch's object needs of its workspace: limits, the fallback time zone, where events go. */
export type WorkspaceEngineInfo = { callsPerSecond: number; maxConcurrentCalls: number; timezone: string | null; webhookUrl: string | null; hasDnc: boolean };

export async function workspaceEngineInfo(db: D1Database, workspaceId: string): Promise<WorkspaceEngineInfo | null> {
  const row = await db
    .prepare(
      `SELECT calls_per_second AS cps, max_concurrent_calls AS mcc, timezone, webhook_url,
              EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = workspaces.id) AS has_dnc
       FROM workspaces WHERE id = ?1`,
    )
    .bind(workspaceId)
    .first<{ cps: number; mcc: number; timezone: string | null; webhook_url: string | null; has_dnc: number }>();
  return row ? { callsPerSecond: row.cps, maxConcurrentCalls: row.mcc, timezone: row.timezone, webhookUrl: row.webhook_url, hasDnc: Boolean(row.has_dnc) } : null;
}

/** Where a workspace's outbound events go, and the (encrypted) secret that signs them; null when it has no webhookUrl. */
export async function webhookTarget(db: D1Database, workspaceId: string): Promise<{ url: string; secretEnc: string } | null> {
  const row = await db
    .prepare("SELECT webhook_url, webhook_secret_enc FROM workspaces WHERE id = ?1")
    .bind(workspaceId)
    .first<{ webhook_url: string | null; webhook_secret_enc: string }>();
  return row?.webhook_url ? { url: row.webhook_url, secretEnc: row.webhook_secret_enc } : null;
}
