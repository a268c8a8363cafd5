import type { Agent } from "../schemas/agent";
import type { Provider } from "../domain/vocabulary";

export type AgentRow = {
  id: string;
  workspace_id: string;
  name: string;
  provider: Provider;
  from_number: string | null;
  voice_url: string | null;
  dial_url: string | null;
  created_at: string;
  deleted_at: string | null;
  /** webhook agents: the current signing secret, encrypted (never returned by the API after creation/rotation). */
  signing_secret_enc: string | null;
  /** The secret before the last rotation, encrypted; it verifies until previous_secret_expires_at (ISO). */
  previous_secret_enc: string | null;
  previous_secret_expires_at: string | null;
};

/** What signing and verifying need to know about an agent; read whether or not it was deleted. */
export type AgentKeys = Pick<AgentRow, "id" | "provider" | "signing_secret_enc" | "previous_secret_enc" | "previous_secret_expires_at">;

export function toAgent(row: AgentRow): Agent {
  return {
    agentId: row.id,
    name: row.name,
    provider: row.provider,
    fromNumber: row.from_number,
    voiceUrl: row.voice_url,
    dialUrl: row.dial_url,
    createdAt: row.created_at,
  };
}

export async function insertAgent(db: D1Database, row: Omit<AgentRow, "deleted_at" | "previous_secret_enc" | "previous_secret_expires_at">): Promise<void> {
  await db
    .prepare(
      `INSERT INTO agents (id, workspace_id, name, provider, from_number, voice_url, dial_url, created_at, signing_secret_enc)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(row.id, row.workspace_id, row.name, row.provider, row.from_number, row.voice_url, row.dial_url, row.created_at, row.signing_secret_enc)
    .run();
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
 * Rotates a webhook agent's signing secret: the current one becomes the
 * previous, verifying until `previousExpiresAt`. A secret already in its
 * grace period is dropped by a second rotation (only one previous is kept).
 * False when the workspace has no such live webhook agent.
 */
export async function rotateAgentSecret(db: D1Database, workspaceId: string, id: string, secretEnc: string, previousExpiresAt: string): Promise<boolean> {
  const row = await db
    .prepare(
      `UPDATE agents SET previous_secret_enc = signing_secret_enc,
         previous_secret_expires_at = CASE WHEN signing_secret_enc IS NULL THEN NULL ELSE ?4 END,
         signing_secret_enc = ?3
       WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL AND provider = 'webhook' RETURNING id`,
    )
    .bind(id, workspaceId, secretEnc, previousExpiresAt)
    .first<{ id: string }>();
  return row !== null;
}

/** An agent's keys by id, deleted or not: a batch started before the deletion still dials and reports through it. */
export async function getAgentKeys(db: D1Database, id: string): Promise<AgentKeys | null> {
  return db
    .prepare("SELECT id, provider, signing_secret_enc, previous_secret_enc, previous_secret_expires_at FROM agents WHERE id = ?1")
    .bind(id)
    .first<AgentKeys>();
}

/** The agent a batch was started with (deleted or not), or null for an unknown batch. */
export async function getBatchAgentKeys(db: D1Database, batchId: string): Promise<AgentKeys | null> {
  return db
    .prepare(
      `SELECT a.id, a.provider, a.signing_secret_enc, a.previous_secret_enc, a.previous_secret_expires_at
       FROM batches b JOIN agents a ON a.id = b.agent_id AND a.workspace_id = b.workspace_id
       WHERE b.id = ?1`,
    )
    .bind(batchId)
    .first<AgentKeys>();
}
