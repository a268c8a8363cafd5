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
