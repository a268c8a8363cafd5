export type Provider = "simulated" | "twilio" | "webhook";

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
};

export type Agent = {
  agentId: string;
  name: string;
  provider: Provider;
  fromNumber: string | null;
  voiceUrl: string | null;
  dialUrl: string | null;
  createdAt: string;
};

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

export async function insertAgent(db: D1Database, row: Omit<AgentRow, "deleted_at">): Promise<void> {
  await db
    .prepare(
      `INSERT INTO agents (id, workspace_id, name, provider, from_number, voice_url, dial_url, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    )
    .bind(row.id, row.workspace_id, row.name, row.provider, row.from_number, row.voice_url, row.dial_url, row.created_at)
    .run();
}

export async function getAgent(db: D1Database, workspaceId: string, id: string): Promise<AgentRow | null> {
  return db
    .prepare("SELECT * FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL")
    .bind(id, workspaceId)
    .first<AgentRow>();
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
