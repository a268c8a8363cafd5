/**
 * The attempts handed to the queue and not yet claimed ("in flight"),
 * without an index over them: an index entry would cost a row written for
 * every dispatch. The calls rows stay the truth (dispatched_attempt >
 * attempts on a waiting call); this instance remembers which seqs to look
 * at — every seq it marked since it started, and on its first use the
 * ones an earlier instance left, found by one walk of the batch. Each
 * read asks the rows, by key, which of those are still in flight, and
 * forgets the others.
 */
export type InFlightJob = { seq: number; attempt: number; at: number };

export class InFlight {
  /** Seqs that may be in flight; null until the walk that loads them. */
  private seqs: Set<number> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** Jobs just marked dispatched. */
  add(seqs: number[]): void {
    const known = this.load();
    for (const s of seqs) known.add(s);
  }

  /** The jobs in flight now, oldest dispatch first. */
  list(): InFlightJob[] {
    const known = this.load();
    if (known.size === 0) return [];
    const rows = this.sql
      .exec<InFlightJob>(
        `SELECT seq, dispatched_attempt AS attempt, coalesce(dispatched_at, 0) AS at FROM calls
           WHERE seq IN (SELECT value FROM json_each(?)) AND status = 'waiting' AND dispatched_attempt > attempts`,
        JSON.stringify([...known]),
      )
      .toArray();
    this.seqs = new Set(rows.map((r) => r.seq));
    return rows.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** When the oldest job in flight was dispatched (or last heard of), or null with none. */
  oldest(): number | null {
    return this.list()[0]?.at ?? null;
  }

  private load(): Set<number> {
    if (this.seqs) return this.seqs;
    // Once per instance: what an earlier instance dispatched is only on the rows.
    const rows = this.sql.exec<{ seq: number }>("SELECT seq FROM calls NOT INDEXED WHERE status = 'waiting' AND dispatched_attempt > attempts").toArray();
    this.seqs = new Set(rows.map((r) => r.seq));
    return this.seqs;
  }
}
