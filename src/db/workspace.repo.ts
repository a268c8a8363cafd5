import { type ContactPolicy, ContactPolicySchema, isEmptyPolicy } from "../domain/contact-policy";
import type { ApiKeyState, Workspace } from "../schemas/workspace";

export type WorkspaceRow = {
  id: string;
  name: string;
  calls_per_second: number;
  max_concurrent_calls: number;
  /** Slots of max_concurrent_calls batches never use (inbound headroom); always below it. */
  reserved_concurrency: number;
  webhook_url: string | null;
  webhook_secret_enc: string;
  timezone: string | null;
  /** JSON ContactPolicy; NULL: none. */
  contact_policy: string | null;
  created_at: string;
};

/** The columns the API shows: every read for a view leaves the webhook secret in the database. */
const VIEW_COLUMNS = [
  "id",
  "name",
  "calls_per_second",
  "max_concurrent_calls",
  "reserved_concurrency",
  "webhook_url",
  "timezone",
  "contact_policy",
  "created_at",
] as const;
export type WorkspaceViewRow = Pick<WorkspaceRow, (typeof VIEW_COLUMNS)[number]>;

/** A workspace's contact policy from its stored JSON (written only by this service, after validation); null: none. */
export function contactPolicyOf(text: string | null): ContactPolicy | null {
  const policy = text === null ? null : ContactPolicySchema.parse(JSON.parse(text));
  return isEmptyPolicy(policy) ? null : policy;
}

/** The column's value for a policy: a policy that limits nothing is stored as none (NULL), so every reader sees one form of "none". */
export function contactPolicyColumn(policy: ContactPolicy | null | undefined): string | null {
  if (!policy || isEmptyPolicy(policy)) return null;
  const { maxAttempts, minGapMinutes } = policy;
  return JSON.stringify(minGapMinutes === undefined ? { maxAttempts } : { maxAttempts, minGapMinutes });
}

export function toWorkspace(row: WorkspaceViewRow): Workspace {
  return {
    workspaceId: row.id,
    name: row.name,
    rateLimits: {
      callsPerSecond: row.calls_per_second,
      maxConcurrentCalls: row.max_concurrent_calls,
      reservedConcurrency: row.reserved_concurrency,
    },
    webhookUrl: row.webhook_url,
    timezone: row.timezone,
    contactPolicy: contactPolicyOf(row.contact_policy),
    createdAt: row.created_at,
  };
}

/** The one read of a workspace row, only the named columns: each caller reads what it needs and nothing it should not hold. */
function selectWorkspace<C extends keyof WorkspaceRow>(db: D1Database, id: string, columns: readonly C[]): D1PreparedStatement {
  return db.prepare(`SELECT ${columns.join(", ")} FROM workspaces WHERE id = ?1`).bind(id);
}

export async function readWorkspace<C extends keyof WorkspaceRow>(db: D1Database, id: string, columns: readonly C[]): Promise<Pick<WorkspaceRow, C> | null> {
  return selectWorkspace(db, id, columns).first<Pick<WorkspaceRow, C>>();
}

/** The workspace as the API shows it, or null when there is no such workspace. */
export async function readWorkspaceView(db: D1Database, id: string): Promise<WorkspaceViewRow | null> {
  return readWorkspace(db, id, VIEW_COLUMNS);
}

/** A page of workspaces, newest first (id breaks a tie of created_at), and how many there are in all. */

export async function listWorkspaces(db: D1Database, limit: number, offset: number): Promise<{ rows: WorkspaceViewRow[]; total: number }> {
  const [rows, total] = await db.batch([
    db.prepare(`SELECT ${VIEW_COLUMNS.join(", ")} FROM workspaces ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2`).bind(limit, offset),
    db.prepare("SELECT count(*) AS n FROM workspaces"),
  ]);
  return {
    rows: (rows?.results ?? []) as WorkspaceViewRow[],
    total: (total?.results?.[0] as { n: number } | undefined)?.n ?? 0,
  };
}

/** Creates the workspace and its first API key together, or neither. */
export async function insertWorkspaceWithKey(db: D1Database, ws: WorkspaceRow, key: { id: string; secretHash: string }): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO workspaces (id, name, calls_per_second, max_concurrent_calls, reserved_concurrency, webhook_url, webhook_secret_enc, timezone, contact_policy, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
      )
      .bind(
        ws.id,
        ws.name,
        ws.calls_per_second,
        ws.max_concurrent_calls,
        ws.reserved_concurrency,
        ws.webhook_url,
        ws.webhook_secret_enc,
        ws.timezone,
        ws.contact_policy,
        ws.created_at,
      ),
    db.prepare("INSERT INTO api_keys (id, workspace_id, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4)").bind(key.id, ws.id, key.secretHash, ws.created_at),
  ]);
}

/** The workspace and all its keys (oldest first), or null when there is no such workspace. */
export async function getWorkspaceWithKeys(db: D1Database, id: string): Promise<{ row: WorkspaceViewRow; keys: ApiKeyState[] } | null> {
  const [ws, keys] = await db.batch([
    selectWorkspace(db, id, VIEW_COLUMNS),
    // Only the columns an operator may see: the secret hash never leaves the database.
    db.prepare("SELECT id, created_at, revoked_at FROM api_keys WHERE workspace_id = ?1 ORDER BY created_at, id").bind(id),
  ]);
  const row = (ws?.results?.[0] as WorkspaceViewRow | undefined) ?? null;
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
  reservedConcurrency?: number;
  webhookUrl?: string | null;
  timezone?: string | null;
  /** Replaces the policy; null or an empty policy removes it. */
  contactPolicy?: ContactPolicy | null;
};

/** What a patch did: the workspace as it now is, or why nothing changed. */
export type WorkspaceUpdate =
  | { kind: "updated"; row: WorkspaceViewRow }
  | { kind: "missing" }
  /** The result would reserve as many slots as maxConcurrentCalls allows; `current` is the workspace's limits, unchanged. */
  | { kind: "no_headroom"; current: Pick<WorkspaceRow, "max_concurrent_calls" | "reserved_concurrency"> };

/**
 * Applies the patch unless the result would leave batches no slot
 * (reserved_concurrency not below max_concurrent_calls). The check is in
 * the UPDATE, and the read that explains a refusal is in the same batch
 * (one transaction), so two patches racing, one raising the reservation
 * and one lowering the limit, cannot both land, and a refusal reports the
 * values that caused it.
 */
export async function updateWorkspace(db: D1Database, id: string, patch: WorkspacePatch): Promise<WorkspaceUpdate> {
  // COALESCE keeps a field when the patch leaves it out; the *_set flags let
  // a patch clear a nullable field explicitly.
  const [updated, current] = await db.batch([
    db
      .prepare(
        `UPDATE workspaces SET
           name = COALESCE(?2, name),
           calls_per_second = COALESCE(?3, calls_per_second),
           max_concurrent_calls = COALESCE(?4, max_concurrent_calls),
           webhook_url = CASE WHEN ?5 THEN ?6 ELSE webhook_url END,
           timezone = CASE WHEN ?7 THEN ?8 ELSE timezone END,
           contact_policy = CASE WHEN ?9 THEN ?10 ELSE contact_policy END,
           reserved_concurrency = COALESCE(?11, reserved_concurrency)
         WHERE id = ?1 AND COALESCE(?11, reserved_concurrency) < COALESCE(?4, max_concurrent_calls)
         RETURNING ${VIEW_COLUMNS.join(", ")}`,
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
        patch.contactPolicy !== undefined ? 1 : 0,
        contactPolicyColumn(patch.contactPolicy),
        patch.reservedConcurrency ?? null,
      ),
    selectWorkspace(db, id, ["max_concurrent_calls", "reserved_concurrency"]),
  ]);
  const row = updated?.results?.[0] as WorkspaceViewRow | undefined;
  if (row) return { kind: "updated", row };
  const limits = current?.results?.[0] as Pick<WorkspaceRow, "max_concurrent_calls" | "reserved_concurrency"> | undefined;
  return limits ? { kind: "no_headroom", current: limits } : { kind: "missing" };
}

/** What a batch's object needs of its workspace: limits, the fallback time zone, where events go, the contact policy. */
export type WorkspaceEngineInfo = {
  callsPerSecond: number;
  maxConcurrentCalls: number;
  /** The last slots of maxConcurrentCalls, kept for inbound calls: batches may hold maxConcurrentCalls − reservedConcurrency (≥ 1). */
  reservedConcurrency: number;
  timezone: string | null;
  webhookUrl: string | null;
  hasDnc: boolean;
  /** null: none (an empty policy is stored as none). */
  contactPolicy: ContactPolicy | null;
};

export async function workspaceEngineInfo(db: D1Database, workspaceId: string): Promise<WorkspaceEngineInfo | null> {
  const row = await db
    .prepare(
      `SELECT calls_per_second, max_concurrent_calls, reserved_concurrency, timezone, webhook_url, contact_policy,
              EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = workspaces.id) AS has_dnc
       FROM workspaces WHERE id = ?1`,
    )
    .bind(workspaceId)
    .first<
      Pick<WorkspaceRow, "calls_per_second" | "max_concurrent_calls" | "reserved_concurrency" | "timezone" | "webhook_url" | "contact_policy"> & {
        has_dnc: number;
      }
    >();
  if (!row) return null;
  return {
    callsPerSecond: row.calls_per_second,
    maxConcurrentCalls: row.max_concurrent_calls,
    reservedConcurrency: row.reserved_concurrency,
    timezone: row.timezone,
    webhookUrl: row.webhook_url,
    hasDnc: Boolean(row.has_dnc),
    contactPolicy: contactPolicyOf(row.contact_policy),
  };
}

/** Where a workspace's outbound events go, and the (encrypted) secret that signs them; null when it has no webhookUrl. */
export async function webhookTarget(db: D1Database, workspaceId: string): Promise<{ url: string; secretEnc: string } | null> {
  const row = await readWorkspace(db, workspaceId, ["webhook_url", "webhook_secret_enc"]);
  return row?.webhook_url ? { url: row.webhook_url, secretEnc: row.webhook_secret_enc } : null;
}
