import { type CallerId, CallerIdSchema, type Pool } from "../domain/caller-id";

/** An agent's caller-id rules from their stored JSON (written only by this service, after validation); null: none set. */
export function callerIdOf(text: string | null): CallerId | null {
  return text === null ? null : CallerIdSchema.parse(JSON.parse(text));
}

/**
 * The pool an agent dials from, as the workspace's limiter uses it: its
 * numbers in order with their enabled flags, and its caller-id rules. Read
 * whether or not the agent was deleted (its batches still run); null when
 * there is no such agent in the workspace.
 */
export async function loadPool(db: D1Database, workspaceId: string, agentId: string): Promise<Pool | null> {
  const [agent, numbers] = await db.batch([
    db.prepare("SELECT caller_id FROM agents WHERE id = ?1 AND workspace_id = ?2").bind(agentId, workspaceId),
    db.prepare("SELECT e164, enabled FROM agent_numbers WHERE agent_id = ?1 AND workspace_id = ?2 ORDER BY position, e164").bind(agentId, workspaceId),
  ]);
  const row = agent?.results?.[0] as { caller_id: string | null } | undefined;
  if (!row) return null;
  const list = (numbers?.results ?? []) as { e164: string; enabled: number }[];
  return { agentId, numbers: list.map((n) => ({ e164: n.e164, enabled: n.enabled === 1 })), callerId: callerIdOf(row.caller_id) };
}

/** A number of an agent's pool as stored: `position` is its index in the pool, `enabled` 0 rests it. */
export type PoolNumberRow = { e164: string; position: number; enabled: number };

/**
 * SQL true when none of the numbers (a JSON array in parameter `numbers`)
 * belongs to a live agent of a workspace other than parameter `workspace`.
 * Writes of a pool are conditional on it inside their batch, so two
 * workspaces claiming one number at the same moment cannot both win.
 */
export function numbersFreeSql(numbers: string, workspace: string): string {
  return `NOT EXISTS (SELECT 1 FROM agent_numbers o JOIN agents oa ON oa.id = o.agent_id
    WHERE o.e164 IN (SELECT value FROM json_each(${numbers})) AND oa.workspace_id != ${workspace} AND oa.deleted_at IS NULL)`;
}

/** The numbers of `numbers` that belong to a live agent of another workspace, in the order given. */
export async function numbersTakenElsewhere(db: D1Database, workspaceId: string, numbers: string[]): Promise<string[]> {
  if (numbers.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT DISTINCT n.e164 FROM agent_numbers n JOIN agents a ON a.id = n.agent_id
       WHERE n.e164 IN (SELECT value FROM json_each(?1)) AND a.workspace_id != ?2 AND a.deleted_at IS NULL`,
    )
    .bind(JSON.stringify(numbers), workspaceId)
    .all<{ e164: string }>();
  const taken = new Set(results.map((r) => r.e164));
  return numbers.filter((n) => taken.has(n));
}

/**
 * The statements that make a live agent's pool `numbers`, in that order:
 * numbers that stay keep their enabled flag, new ones start enabled, the
 * rest go. They write nothing when the agent is not live in the workspace
 * or a number belongs to another workspace; run them in the batch that
 * writes the agent row, so the row and its pool change together.
 */
export function poolWrites(db: D1Database, workspaceId: string, agentId: string, numbers: string[]): D1PreparedStatement[] {
  const guard = `EXISTS (SELECT 1 FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL) AND ${numbersFreeSql("?3", "?2")}`;
  const list = JSON.stringify(numbers);
  return [
    db
      .prepare(`DELETE FROM agent_numbers WHERE agent_id = ?1 AND workspace_id = ?2 AND e164 NOT IN (SELECT value FROM json_each(?3)) AND ${guard}`)
      .bind(agentId, workspaceId, list),
    db
      .prepare(
        `INSERT INTO agent_numbers (agent_id, workspace_id, e164, position, enabled)
         SELECT ?1, ?2, j.value, j.key, 1 FROM json_each(?3) j WHERE ${guard}
         ON CONFLICT (agent_id, e164) DO UPDATE SET position = excluded.position`,
      )
      .bind(agentId, workspaceId, list),
  ];
}

/** A statement reading an agent's pool in order (deleted or not: the caller has checked the agent). */
export function poolRead(db: D1Database, workspaceId: string, agentId: string): D1PreparedStatement {
  return db
    .prepare("SELECT e164, position, enabled FROM agent_numbers WHERE agent_id = ?1 AND workspace_id = ?2 ORDER BY position, e164")
    .bind(agentId, workspaceId);
}

/** The pools of every live agent of the workspace, in one query: agent id → numbers in order. */
export function poolsRead(db: D1Database, workspaceId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT n.agent_id, n.e164 FROM agent_numbers n JOIN agents a ON a.id = n.agent_id
       WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL AND n.workspace_id = ?1 ORDER BY n.agent_id, n.position, n.e164`,
    )
    .bind(workspaceId);
}

/** Rows of `poolsRead` grouped by agent, each pool in order. */
export function poolsByAgent(rows: { agent_id: string; e164: string }[]): Map<string, string[]> {
  const pools = new Map<string, string[]>();
  for (const r of rows) {
    const pool = pools.get(r.agent_id);
    if (pool) pool.push(r.e164);
    else pools.set(r.agent_id, [r.e164]);
  }
  return pools;
}

/** Rests or wakes one number of a live agent's pool; the number as it now is, or null when the agent or the number is not there. */
export async function setNumberEnabled(db: D1Database, workspaceId: string, agentId: string, e164: string, enabled: boolean): Promise<PoolNumberRow | null> {
  return db
    .prepare(
      `UPDATE agent_numbers SET enabled = ?4
       WHERE agent_id = ?1 AND workspace_id = ?2 AND e164 = ?3
         AND EXISTS (SELECT 1 FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL)
       RETURNING e164, position, enabled`,
    )
    .bind(agentId, workspaceId, e164, enabled ? 1 : 0)
    .first<PoolNumberRow>();
}
