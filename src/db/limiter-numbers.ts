import type { NumberLoad, Pool } from "../domain/caller-id";

/**
 * What a workspace's limiter keeps about its caller IDs and its
 * recipients, in its own SQLite: each number's starts of the last second
 * and its last start (`numbers`), per hour its starts (for its day limit)
 * and its finished and answered attempts (its health: an attempt counts
 * when its batch reports it over, so a start that never became a call —
 * a claim refused after the gate — is not in it) (`number_hours`), and, while the
 * workspace has a contact policy, each recipient number's attempts
 * (`contacts`). Every method is synchronous, so the limiter's
 * check-and-record stays atomic.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS numbers (e164 TEXT PRIMARY KEY, recent TEXT NOT NULL, last_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS number_hours (
  e164 TEXT NOT NULL, hour INTEGER NOT NULL,
  starts INTEGER NOT NULL DEFAULT 0, ended INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (e164, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS contacts (phone TEXT NOT NULL, lease TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (phone, lease)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contacts_at ON contacts(at);
`;

export const HOUR_MS = 3_600_000;
const SECOND_MS = 1000;
/** Hours a number's day limit looks back: the current hour and the 24 before it (so never less than 24 full hours). */
const DAY_HOURS = 25;
/** Hours of per-number history kept, for the 7-day health figures. */
const KEEP_HOURS = 7 * 24 + 1;

/** A number's finished attempts and answered ones over 24 hours and 7 days (by the hour they started), and its last start. */
export type NumberStats = { e164: string; attempts24h: number; answered24h: number; attempts7d: number; answered7d: number; lastStartAt: number | null };

type Cached = NumberLoad & { hour: number };

export class NumberBook {
  /** Each number's load as stored, kept in memory while the hour lasts: a start reads no row. */
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /** The number's starts of the last second, its last start, and its starts in the day window. */
  load(e164: string, now: number): NumberLoad {
    const hour = Math.floor(now / HOUR_MS);
    const hit = this.cache.get(e164);
    if (hit && hit.hour === hour) return hit;
    const row = this.sql.exec<{ recent: string; last_at: number }>("SELECT recent, last_at FROM numbers WHERE e164 = ?", e164).toArray()[0];
    const day = this.sql.exec<{ n: number | null }>("SELECT sum(starts) AS n FROM number_hours WHERE e164 = ? AND hour > ?", e164, hour - DAY_HOURS).one().n;
    const loaded: Cached = { recent: row ? (JSON.parse(row.recent) as number[]) : [], lastAt: row?.last_at ?? 0, day: Number(day ?? 0), hour };
    this.cache.set(e164, loaded);
    return loaded;
  }

  /** Records a start from `e164`: in its last second (at most `perSecond` kept), its last start and its hour. */
  noteStart(e164: string, now: number, perSecond: number): void {
    const load = this.load(e164, now) as Cached;
    load.recent = [...load.recent.filter((t) => t > now - SECOND_MS), now].slice(-Math.max(1, Math.min(perSecond, 100)));
    load.lastAt = now;
    load.day += 1;
    this.sql.exec(
      "INSERT INTO numbers (e164, recent, last_at) VALUES (?1, ?2, ?3) ON CONFLICT (e164) DO UPDATE SET recent = ?2, last_at = ?3",
      e164,
      JSON.stringify(load.recent),
      now,
    );
    this.sql.exec(
      "INSERT INTO number_hours (e164, hour, starts) VALUES (?, ?, 1) ON CONFLICT (e164, hour) DO UPDATE SET starts = starts + 1",
      e164,
      Math.floor(now / HOUR_MS),
    );
  }

  /** Counts a finished attempt (and whether it was answered) in the hour it started. */
  noteEnded(e164: string, startedAt: number, answered: boolean): void {
    const a = answered ? 1 : 0;
    this.sql.exec(
      "INSERT INTO number_hours (e164, hour, ended, answered) VALUES (?1, ?2, 1, ?3) ON CONFLICT (e164, hour) DO UPDATE SET ended = ended + 1, answered = answered + ?3",
      e164,
      Math.floor(startedAt / HOUR_MS),
      a,
    );
  }

  stats(e164s: string[], now: number): NumberStats[] {
    const hour = Math.floor(now / HOUR_MS);
    return e164s.map((e164) => {
      const sums = this.sql
        .exec<{ a24: number | null; n24: number | null; a7: number | null; n7: number | null }>(
          `SELECT sum(CASE WHEN hour > ?2 THEN ended END) AS a24, sum(CASE WHEN hour > ?2 THEN answered END) AS n24,
                  sum(ended) AS a7, sum(answered) AS n7
             FROM number_hours WHERE e164 = ?1 AND hour > ?3`,
          e164,
          hour - 24,
          hour - 7 * 24,
        )
        .one();
      const last = this.sql.exec<{ last_at: number }>("SELECT last_at FROM numbers WHERE e164 = ?", e164).toArray()[0];
      return {
        e164,
        attempts24h: Number(sums.a24 ?? 0),
        answered24h: Number(sums.n24 ?? 0),
        attempts7d: Number(sums.a7 ?? 0),
        answered7d: Number(sums.n7 ?? 0),
        lastStartAt: last?.last_at ?? null,
      };
    });
  }

  /** Forgets hours older than the health figures show. */
  purge(now: number): void {
    this.sql.exec("DELETE FROM number_hours WHERE hour <= ?", Math.floor(now / HOUR_MS) - KEEP_HOURS);
  }
}

/** Each recipient number's attempts while the workspace has a contact policy, one row per attempt (its lease). */
export class ContactBook {
  constructor(private readonly sql: SqlStorage) {}

  /** Start times of the number's attempts since `since`, other than the attempt `lease` itself. */
  startsOf(phone: string, since: number, lease: string): number[] {
    return this.sql
      .exec<{ at: number }>("SELECT at FROM contacts WHERE phone = ? AND at > ? AND lease != ?", phone, since, lease)
      .toArray()
      .map((r) => r.at);
  }

  /** Records the attempt; a second record of the same attempt is a no-op. */
  add(phone: string, lease: string, at: number): void {
    this.sql.exec("INSERT OR IGNORE INTO contacts (phone, lease, at) VALUES (?, ?, ?)", phone, lease, at);
  }

  purge(before: number): void {
    this.sql.exec("DELETE FROM contacts WHERE at <= ?", before);
  }
}

/** Starts a second the pool's enabled numbers may make together (at least 1, so a held call is still tried); no limit without per-number rules. */
export function poolRate(pool: Pool | null): number {
  const perSecond = pool?.callerId?.perNumber.callsPerSecond;
  if (!pool || perSecond === undefined || pool.numbers.length === 0) return Infinity;
  return Math.max(1, pool.numbers.filter((n) => n.enabled).length * perSecond);
}
