import type { HistoryBatch } from "../domain/budget";

/** How many of an agent's batches the estimate looks back over. */
export const HISTORY_BATCHES = 20;

/**
 * An agent's most recent batches that finished attempts, newest first: what
 * each billed and how many of its calls are done, from the summaries their
 * objects keep in D1 (at most about a second behind). One indexed read
 * (batches_agent_history); drafts and uploads in progress have finished no
 * attempt, so they are never among them.
 */
export async function agentHistory(db: D1Database, workspaceId: string, agentId: string): Promise<HistoryBatch[]> {
  const { results } = await db
    .prepare(
      `SELECT attempts_ended, billed_minutes, completed_count + failed_count AS calls_done FROM batches
       WHERE agent_id = ?1 AND attempts_ended > 0 AND workspace_id = ?2
       ORDER BY created_at DESC LIMIT ?3`,
    )
    .bind(agentId, workspaceId, HISTORY_BATCHES)
    .all<{ attempts_ended: number; billed_minutes: number; calls_done: number }>();
  return results.map((r) => ({ attemptsEnded: r.attempts_ended, billedMinutes: r.billed_minutes, callsDone: r.calls_done }));
}
