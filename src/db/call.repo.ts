/**
 * Which rows of an intake slice (`[[seq, e164, [values…]], …]`) are on the
 * workspace's do-not-call list: their seqs, so the batch's object leaves
 * exactly those out when it materialises the calls.
 */
export async function dncSeqsInSlice(db: D1Database, workspaceId: string, rowsJson: string): Promise<number[]> {
  const { results } = await db
    .prepare(
      `SELECT j.value ->> 0 AS seq FROM json_each(?2) AS j
       WHERE EXISTS (SELECT 1 FROM dnc WHERE dnc.workspace_id = ?1 AND dnc.phone_number = j.value ->> 1)`,
    )
    .bind(workspaceId, rowsJson)
    .all<{ seq: number }>();
  return results.map((r) => r.seq);
}

// The view moved to src/views/call.ts; this re-export serves durable/batch-scheduler.ts until its import points there.
export { toCallView } from "../views/call";
