import { one } from "./rows";

/**
 * The outcomes of a batch's last finished attempts, for its stop rules: a
 * ring of `size` slots in the ledger (slot = n mod size, n counted on the
 * batch row), so each finished attempt writes one row and the window is
 * read with one query. Kept only while the batch has stop rules.
 */
export class StopWindow {
  constructor(private readonly sql: SqlStorage) {}

  /** Records a finished attempt's outcome; the window as it now stands. */
  note(outcome: string, size: number): { size: number; failed: number; voicemail: number } {
    const n = Number(one<{ n: number }>(this.sql, "SELECT window_n AS n FROM batch WHERE id = 1")?.n ?? 0);
    this.sql.exec("INSERT OR REPLACE INTO stop_window (slot, outcome) VALUES (?, ?)", n % size, outcome);
    this.sql.exec("UPDATE batch SET window_n = window_n + 1 WHERE id = 1");
    const w = one<{ size: number; failed: number; voicemail: number }>(
      this.sql,
      "SELECT count(*) AS size, count(*) FILTER (WHERE outcome = 'failed') AS failed, count(*) FILTER (WHERE outcome = 'voicemail') AS voicemail FROM stop_window WHERE slot < ?",
      size,
    );
    return { size: Math.min(n + 1, size), failed: Number(w?.failed ?? 0), voicemail: Number(w?.voicemail ?? 0) };
  }

  /** The window as it stands: how many attempts it holds, and of them failed and voicemail. */
  counts(): { window: number; failed: number; voicemail: number } {
    const w = one<{ size: number; failed: number; voicemail: number }>(
      this.sql,
      "SELECT count(*) AS size, count(*) FILTER (WHERE outcome = 'failed') AS failed, count(*) FILTER (WHERE outcome = 'voicemail') AS voicemail FROM stop_window",
    );
    return { window: Number(w?.size ?? 0), failed: Number(w?.failed ?? 0), voicemail: Number(w?.voicemail ?? 0) };
  }

  /** Forgets the window: a resumed batch is judged on fresh attempts. */
  reset(): void {
    this.sql.exec("DELETE FROM stop_window");
    this.sql.exec("UPDATE batch SET window_n = 0 WHERE id = 1");
  }

  /** Records that the batch.paused event of pause `n` was handed over. */
  announced(n: number): void {
    this.sql.exec("UPDATE batch SET pauses_announced = max(pauses_announced, ?) WHERE id = 1", n);
  }
}
