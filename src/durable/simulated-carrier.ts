import { DurableObject } from "cloudflare:workers";
import { instrumentEnv } from "../lib/metrics";
import type { Outcome } from "../domain/outcome";
import { log } from "../lib/log";
import { applyCallEvent, type CallEvent } from "../services/call-events";

const DELIVERY_PARALLELISM = 25;

export type SimPlacement = { batchId: string; seq: number; attempt: number; to: string; callSeconds: number };

/** The contract's simulated outcomes, by the number's last digit. */
export function simulatedOutcome(e164: string): Outcome {
  const d = Number(e164.at(-1));
  if (d <= 4) return "answered";
  if (d === 5) return "voicemail";
  if (d <= 7) return "no_answer";
  if (d === 8) return "busy";
  return "failed";
}

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
  }

  async place(p: SimPlacement): Promise<string> {
    const now = Date.now();
    const outcome = simulatedOutcome(p.to);
    const ms = p.callSeconds * 1000;
    const providerCallId = `sim_${p.batchId.slice(6)}_${p.seq}_${p.attempt}`;
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
    await this.armForEarliest();
    return providerCallId;
  }

  private async armForEarliest(): Promise<void> {
    const next = this.sql.exec<{ t: number | null }>("SELECT min(due) AS t FROM events").one().t;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Delivers every due event, several at once as a provider's webhooks
   * would arrive. One that fails stays for the alarm's retry: delivery is
   * at-least-once and applying is idempotent.
   */
  override async alarm(): Promise<void> {
    const due = this.sql.exec<{ id: number; event: string }>("SELECT id, event FROM events WHERE due <= ? ORDER BY due, id LIMIT 500", Date.now()).toArray();
    let failed: unknown = null;
    for (let i = 0; i < due.length; i += DELIVERY_PARALLELISM) {
      await Promise.all(
        due.slice(i, i + DELIVERY_PARALLELISM).map(async (row) => {
          const ev = JSON.parse(row.event) as CallEvent;
          try {
            const result = await applyCallEvent(this.env, ev);
            if (result === "unknown_call") log("warn", "sim.unknown_call", { batchId: ev.batchId, seq: ev.seq });
            this.sql.exec("DELETE FROM events WHERE id = ?", row.id);
          } catch (err) {
            failed ??= err;
          }
        }),
      );
    }
    await this.armForEarliest();
    if (failed) throw failed;
  }
}
