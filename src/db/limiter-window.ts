/**
 * The workspace's rate window: the times of its most recent starts, so a
 * start is admitted only while fewer than callsPerSecond starts happened
 * in the last second (the window is `(now − 1000, now]`). A start is
 * admitted iff the callsPerSecond-th most recent start is a full second
 * old: one array lookup, which reads no row and costs the same at 1 start
 * a second as at 1,000.
 *
 * The times live in memory and, per clock second, in one row of the
 * limiter's SQLite (its starts as millisecond offsets): a call that
 * admitted starts appends them to its second's row, and that row is
 * reused four seconds later, so nothing is ever deleted and waking reads
 * at most SLOTS rows. Every method is synchronous, so the limiter's
 * check-and-record stays atomic.
 */
const SCHEMA = "CREATE TABLE IF NOT EXISTS start_seconds (slot INTEGER PRIMARY KEY, sec INTEGER NOT NULL, times TEXT NOT NULL)";

/** Rows kept, one per second: the window spans at most two seconds, so four leave room. */
const SLOTS = 4;
const WINDOW_MS = 1000;

export class StartWindow {
  /** Start times in the order they were recorded (never decreasing), oldest first; `head` is the first still in the window. */
  private times: number[] | null = null;
  private head = 0;
  /** The latest time recorded (0: none). */
  private last = 0;
  /** Recorded since the last save. */
  private unsaved: number[] = [];

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    // A limiter from before kept one row per start of the last second: carried over once.
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'starts'").toArray().length > 0) {
      for (const { at } of sql.exec<{ at: number }>("SELECT at FROM starts ORDER BY at").toArray()) this.record(at);
      this.save();
      sql.exec("DROP TABLE starts");
    }
  }

  /**
   * How long before a start may be admitted under `perSecond`: 0 when the
   * window has room now, otherwise until the perSecond-th most recent
   * start leaves it (+1: the window excludes its left edge).
   */
  waitMs(now: number, perSecond: number): number {
    const times = this.recent(now);
    if (times.length - this.head < perSecond) return 0;
    return Math.max(1, times[times.length - perSecond]! + WINDOW_MS - now + 1);
  }

  /** Starts in the last second. */
  count(now: number): number {
    return this.recent(now).length - this.head;
  }

  /**
   * Records a start at `at` (written by the next `save`). The window keeps
   * times in order: a clock that stepped back is counted at the latest
   * time already recorded, which can only make the window fuller.
   */
  record(at: number): void {
    const t = Math.max(at, this.last);
    this.load().push(t);
    this.unsaved.push(t);
    this.last = t;
  }

  /** Writes the starts recorded since the last save: appended to their second's row (one row, unless they span two seconds). */
  save(): void {
    const bySecond = new Map<number, number[]>();
    for (const t of this.unsaved) {
      const sec = Math.floor(t / 1000);
      const offsets = bySecond.get(sec) ?? [];
      offsets.push(t - sec * 1000);
      bySecond.set(sec, offsets);
    }
    for (const [sec, offsets] of bySecond) {
      this.sql.exec(
        `INSERT INTO start_seconds (slot, sec, times) VALUES (?1, ?2, ?3)
           ON CONFLICT (slot) DO UPDATE SET times = CASE WHEN sec = ?2 THEN times || ',' || ?3 ELSE ?3 END, sec = ?2`,
        sec % SLOTS,
        sec,
        offsets.join(","),
      );
    }
    this.unsaved = [];
  }

  /** The times, those out of the window at `now` skipped. */
  private recent(now: number): number[] {
    const times = this.load();
    while (this.head < times.length && times[this.head]! <= now - WINDOW_MS) this.head += 1;
    // Compacted once the skipped part is the larger: each time is moved O(1) times on average.
    if (this.head > 64 && this.head * 2 > times.length) {
      times.splice(0, this.head);
      this.head = 0;
    }
    return times;
  }

  private load(): number[] {
    if (this.times) return this.times;
    const times: number[] = [];
    for (const row of this.sql.exec<{ sec: number; times: string }>("SELECT sec, times FROM start_seconds ORDER BY sec")) {
      for (const offset of row.times.split(",")) {
        const t = row.sec * 1000 + Number(offset);
        times.push(Math.max(t, times[times.length - 1] ?? t));
      }
    }
    this.times = times;
    this.last = Math.max(this.last, times[times.length - 1] ?? 0);
    this.head = 0;
    return times;
  }
}
