import type { Agent } from "../schemas/agent";
import type { DeclaredResults } from "../domain/agent-result";
import type { Provider } from "../domain/vocabulary";

export type AgentRow = {
  id: string;
  workspace_id: string;
  name: string;
  provider: Provider;
  from_number: string | null;
  voice_url: string | null;
  dial_url: string | null;
  /** The results its calls report (JSON of DeclaredResults), or null: any. */
  result_schema: string | null;
  /** 1: a twilio agent's calls are recorded. */
  record: number;
  created_at: string;
  deleted_at: string | null;
  /** The current signing secret, encrypted (never returned by the API after creation/rotation); null for an agent made before every agent had one. */
  signing_secret_enc: string | null;
  /** The secret before the last rotation, encrypted; it verifies until previous_secret_expires_at (ISO). */
  previous_secret_enc: string | null;
  previous_secret_expires_at: string | null;
};

/** What signing, verifying and checking an agent's reports need to know about it; read whether or not it was deleted. */
export type AgentKeys = Pick<AgentRow, "id" | "provider" | "signing_secret_enc" | "previous_secret_enc" | "previous_secret_expires_at" | "result_schema">;

const KEY_COLUMNS = "a.id, a.provider, a.signing_secret_enc, a.previous_secret_enc, a.previous_secret_expires_at, a.result_schema";

/** An agent's declared results from their stored JSON (written only by this service, after validation). */
export function declaredResultsOf(text: string | null): DeclaredResults | null {
  return text === null ? null : (JSON.parse(text) as DeclaredResults);
}

export function toAgent(row: AgentRow): Agent {
  return {
    agentId: row.id,
    name: row.name,
    provider: row.provider,
    fromNumber: row.from_number,
    voiceUrl: row.voice_url,
    dialUrl: row.dial_url,
    resultSchema: declaredResultsOf(row.result_schema),
    record: row.record === 1,
    createdAt: row.created_at,
  };
}

export type NewAgentRow = Omit<AgentRow, "deleted_at" | "previous_secret_enc" | "previous_secret_expires_at">;

export async function insertAgent(db: D1Database, row: NewAgentRow): Promise<void> {
  await db
    .prepare(
      `INSERT INTO agents (id, workspace_id, name, provider, from_number, voice_url, dial_url, created_at, signing_secret_enc, result_schema, record)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
    )
    .bind(
      row.id,
      row.workspace_id,
      row.name,
      row.provider,
      row.from_number,
      row.voice_url,
      row.dial_url,
      row.created_at,
      row.signing_secret_enc,
      row.result_schema,
      row.record,
    )
    .run();
}

/** What PATCH may change: never the provider, the secrets or the dates. */
export type AgentChanges = Partial<Pick<AgentRow, "name" | "from_number" | "voice_url" | "dial_url" | "result_schema" | "record">>;
const CHANGEABLE = ["name", "from_number", "voice_url", "dial_url", "result_schema", "record"] as const;

/** Changes a live agent of the workspace and returns it as it now is; null when there is no such agent. */
export async function updateAgent(db: D1Database, workspaceId: string, id: string, changes: AgentChanges): Promise<AgentRow | null> {
  const columns = CHANGEABLE.filter((c) => changes[c] !== undefined);
  if (columns.length === 0) return getAgent(db, workspaceId, id);
  const sets = columns.map((c, i) => `${c} = ?${i + 3}`).join(", ");
  return db
    .prepare(`UPDATE agents SET ${sets} WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL RETURNING *`)
    .bind(id, workspaceId, ...columns.map((c) => changes[c]))
    .first<AgentRow>();
}

export async function getAgent(db: D1Database, workspaceId: string, id: string): Promise<AgentRow | null> {
  return db.prepare("SELECT * FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL").bind(id, workspaceId).first<AgentRow>();
}

export async function listAgents(db: D1Database, workspaceId: string): Promise<AgentRow[]> {
  const { results } = await db
    .prepare("SELECT * FROM agents WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC")
    .bind(workspaceId)
    .all<AgentRow>();
  return results;
}

/** Soft delete: batches keep pointing at the agent they were started with. */
export async function deleteAgent(db: D1Database, workspaceId: string, id: string, at: string): Promise<boolean> {
  const row = await db
    .prepare("UPDATE agents SET deleted_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL RETURNING id")
    .bind(id, workspaceId, at)
    .first<{ id: string }>();
  return row !== null;
}

/**
 * Rotates an agent's signing secret: the current one becomes the previous,
 * verifying until `previousExpiresAt`. A secret already in its grace period
 * is dropped by a second rotation (only one previous is kept); an agent
 * without a secret gets its first. False when the workspace has no such live agent.
 */
export async function rotateAgentSecret(db: D1Database, workspaceId: string, id: string, secretEnc: string, previousExpiresAt: string): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE agents SET previous_secret_enc = signing_secret_enc,
         previous_secret_expires_at = CASE WHEN signing_secret_enc IS NULL THEN NULL ELSE ?4 END,
         signing_secret_enc = ?3
       WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL RETURNING id`,
    )
    .bind(id, workspaceId, secretEnc, previousExpiresAt)
    .first<{ id: string }>();
  return row !== null;
}

/** An agent's keys by id, deleted or not: a batch started before the deletion still dials and reports through it. */
export async function getAgentKeys(db: D1Database, id: string): Promise<AgentKeys | null> {
  return db.prepare(`SELECT ${KEY_COLUMNS} FROM agents a WHERE a.id = ?1`).bind(id).first<AgentKeys>();
}

/** The agent a batch was started with (deleted or not), or null for an unknown batch. */
export async function getBatchAgentKeys(db: D1Database, batchId: string): Promise<AgentKeys | null> {
  return db
    .prepare(
      `SELECT ${KEY_COLUMNS}
       FROM batches b JOIN agents a ON a.id = b.agent_id AND a.workspace_id = b.workspace_id
       WHERE b.id = ?1`,
    )
    .bind(batchId)
    .first<AgentKeys>();
}
