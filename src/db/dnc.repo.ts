export async function addDnc(db: D1Database, workspaceId: string, phones: string[], at: string): Promise<number> {
  const res = await db
    .prepare(
      `INSERT INTO dnc (workspace_id, phone_number, created_at)
       SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
       ON CONFLICT (workspace_id, phone_number) DO NOTHING`,
    )
    .bind(workspaceId, JSON.stringify(phones), at)
    .run();
  return res.meta.changes;
}

export async function listDnc(
  db: D1Database,
  workspaceId: string,
  limit: number,
  offset: number,
): Promise<{ rows: { phone_number: string; created_at: string }[]; total: number }> {
  const [rows, total] = await db.batch([
    db.prepare("SELECT phone_number, created_at FROM dnc WHERE workspace_id = ?1 ORDER BY phone_number LIMIT ?2 OFFSET ?3").bind(workspaceId, limit, offset),
    db.prepare("SELECT count(*) AS n FROM dnc WHERE workspace_id = ?1").bind(workspaceId),
  ]);
  return {
    rows: (rows?.results ?? []) as { phone_number: string; created_at: string }[],
    total: (total?.results?.[0] as { n: number } | undefined)?.n ?? 0,
  };
}

export async function removeDnc(db: D1Database, workspaceId: string, phone: string): Promise<boolean> {
  const res = await db.prepare("DELETE FROM dnc WHERE workspace_id = ?1 AND phone_number = ?2").bind(workspaceId, phone).run();
  return res.meta.changes > 0;
}

export async function hasAnyDnc(db: D1Database, workspaceId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS x FROM dnc WHERE workspace_id = ?1 LIMIT 1").bind(workspaceId).first()) !== null;
}

/** Which of `phones` are on the workspace's do-not-call list: one query for a whole dispatch slice. */
export async function dncAmong(db: D1Database, workspaceId: string, phones: string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const { results } = await db
    .prepare("SELECT phone_number FROM dnc WHERE workspace_id = ?1 AND phone_number IN (SELECT value FROM json_each(?2))")
    .bind(workspaceId, JSON.stringify(phones))
    .all<{ phone_number: string }>();
  return new Set(results.map((r) => r.phone_number));
}

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
