import { DurableObject } from "cloudflare:workers";
import { instrumentEnv } from "../lib/metrics";
import { simulatedOutcome } from "../domain/simulated";
import { log } from "../lib/log";
import type { CallEvent } from "../services/call-events";

/** Events handed to the batch's object in one call. */
const DELIVERY_CHUNK = 100;

export type SimPlacement = { batchId: string; seq: number; attempt: number; to: string; callSeconds: number };

/**
 * A pretend telephone network for local development and tests: no network
 * at all. Each placed call becomes a scheduled status event, delivered by
 * this object's alarm through applyCallEvent, the same path real provider
 * webhooks take. One instance per batch; events survive restarts.
 */
export class SimulatedCarrier extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, due INTEGER NOT NULL, event TEXT NOT NULL)");
    // Every call this carrier accepted, as a real provider's call log: asked when a dial's fate is unknown.
    this.sql.exec("CREATE TABLE IF NOT EXISTS dials (seq INTEGER NOT NULL, attempt INTEGER NOT NULL, provider_call_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (seq, attempt))");
  }

  /** The call placed for this attempt, if this carrier ever accepted one. */
  async placement(seq: number, attempt: number): Promise<string | null> {
    return this.sql.exec<{ id: string }>("SELECT provider_call_id AS id FROM dials WHERE seq = ? AND attempt = ?", seq, attempt).toArray()[0]?.id ?? null;
  }

  async place(p: SimPlacement): Promise<string> {
    const [id] = await this.placeMany([p]);
    return id!;
  }

  /** Several calls of one batch placed at once (one consumer batch's dials): one request, one alarm update. */
  async placeMany(placements: SimPlacement[]): Promise<string[]> {
    const ids = placements.map((p) => this.record(p));
    await this.armForEarliest();
    return ids;
  }

  private record(p: SimPlacement): string {
    const now = Date.now();
    const outcome = simulatedOutcome(p.to);
    const ms = p.callSeconds * 1000;
    const providerCallId = `sim_${p.batchId.slice(6)}_${p.seq}_${p.attempt}`;
    // A placement repeated for one attempt is the same call: one ring, one report.
    const fresh = this.sql.exec("INSERT OR IGNORE INTO dials (seq, attempt, provider_call_id, at) VALUES (?, ?, ?, ?) RETURNING seq", p.seq, p.attempt, providerCallId, now).toArray();
    if (fresh.length === 0) return providerCallId;
    // Busy and failed come back quickly; the rest after a call's length.
    const endsAt = now + (outcome === "busy" || outcome === "failed" ? Math.min(ms, 1000) : ms);
    const final: CallEvent = {
      kind: "final",
      batchId: p.batchId,
      seq: p.seq,
      attempt: p.attempt,
      outcome,
      at: endsAt,
      durationSec: outcome === "answered" || outcome === "voicemail" ? p.callSeconds : null,
      providerCallId,
    };
    // Only the final report: the consumer already recorded the provider call id, which is all a progress report would add.
    this.sql.exec("INSERT INTO events (due, event) VALUES (?, ?)", endsAt, JSON.stringify(final));
    return providerCallId;
  }

  private async armForEarliest(): Promise<void> {
    const next = this.sql.exec<{ t: number | null }>("SELECT min(due) AS t FROM events").one().t;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Delivers every due event to the batch's object, a chunk per call, as a
   * provider's webhooks would arrive. A chunk that fails stays for the
   * alarm's retry: delivery is at-least-once and applying is idempotent.
   */
  override async alarm(): Promise<void> {
    const due = this.sql.exec<{ id: number; event: string }>("SELECT id, event FROM events WHERE due <= ? ORDER BY due, id LIMIT 500", Date.now()).toArray();
    let failed: unknown = null;
    const chunks: { id: number; event: CallEvent }[][] = [];
    for (let i = 0; i < due.length; i += DELIVERY_CHUNK) {
      chunks.push(due.slice(i, i + DELIVERY_CHUNK).map((r) => ({ id: r.id, event: JSON.parse(r.event) as CallEvent })));
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          // One carrier per batch: every event of a chunk goes to the same object.
          const results = await this.env.BATCH_SCHEDULER.getByName(chunk[0]!.event.batchId).applyEvents(chunk.map((c) => c.event));
          results.forEach((r, i) => {
            if (r === "unknown_call") log("warn", "sim.unknown_call", { batchId: chunk[i]!.event.batchId, seq: chunk[i]!.event.seq });
          });
          for (const c of chunk) this.sql.exec("DELETE FROM events WHERE id = ?", c.id);
        } catch (err) {
          failed ??= err;
        }
      }),
    );
    await this.armForEarliest();
    if (failed) throw failed;
  }
}
