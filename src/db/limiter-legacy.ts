/**
 * The lease tables of limiters from before, carried over once into grant
 * rows (LimiterStore): the first kept a rowid table with an index by batch
 * and one by expiry, the second a WITHOUT ROWID table — both one row per
 * lease. Each lease keeps its batch, expiry, start and caller ID, in one
 * grant row per batch. Runs in the constructor, in one synchronous step
 * (so it commits whole or not at all).
 */
type LegacyLease = { id: string; batch_id: string; expires_at: number; started_at: number | null; from_number: string | null };

/** If `leases` is a table from before (its definition lacks `marker`), moves its leases into the grant table `schema` makes. */
export function carryOverLeases(sql: SqlStorage, marker: string, schema: string): void {
  const table = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'leases'").toArray()[0]?.sql;
  if (!table || table.includes(marker)) return;
  sql.exec("ALTER TABLE leases RENAME TO leases_v1");
  sql.exec(schema);
  const from = table.includes("from_number") ? "from_number" : "NULL AS from_number";
  const byBatch = new Map<string, [string, number, number | null, string | null][]>();
  for (const r of sql.exec<LegacyLease>(`SELECT id, batch_id, expires_at, started_at, ${from} FROM leases_v1 ORDER BY id`).toArray()) {
    byBatch.set(r.batch_id, [...(byBatch.get(r.batch_id) ?? []), [r.id, r.expires_at, r.started_at, r.from_number]]);
  }
  for (const [batchId, entries] of byBatch) sql.exec("INSERT INTO leases (batch_id, held) VALUES (?, ?)", batchId, JSON.stringify(entries));
  sql.exec("DROP TABLE leases_v1"); // its indexes go with it
}
