import { DurableObject } from "cloudflare:workers";
import { CarrierLog } from "../db/carrier-log";
import { instrumentEnv } from "../lib/metrics";
import { connected } from "../domain/outcome";
import { simulatedOutcome } from "../domain/simulated";
import { log } from "../lib/log";
import type { CallEvent } from "../domain/call-event";

/** Events handed to the batch's object in one call. */
const DELIVERY_CHUNK = 100;

export type SimPlacement = { batchId: string; seq: number; attempt: number; to: string; callSeconds: number };

/** The carrier's one clock; tests replace it inside runInDurableObject. */
export type CarrierPorts = { now: () => number };

/**
 * A pretend telephone network for local development and tests: no network
 * at all. Each placed call becomes a scheduled status event, delivered by
 * this object's alarm through applyCallEvent, the same path real provider
 * webhooks take. One instance per batch; events survive restarts.
 */
export class SimulatedCarrier extends DurableObject<Env> {
  private readonly calls: CarrierLog;
  ports: CarrierPorts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.calls = new CarrierLog(ctx.storage.sql);
    this.ports = { now: () => Date.now() };
  }

  /** The call placed for this attempt, if this carrier ever accepted one. */
  async placement(seq: number, attempt: number): Promise<string | null> {
    return this.calls.placement(seq, attempt);
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
    const now = this.ports.now();
    const outcome = simulatedOutcome(p.to);
    const ms = p.callSeconds * 1000;
    const providerCallId = `sim_${p.batchId.slice(6)}_${p.seq}_${p.attempt}`;
    // A placement repeated for one attempt is the same call: one ring, one report.
    if (!this.calls.recordDial(p.seq, p.attempt, providerCallId, now)) return providerCallId;
    // Busy and failed come back quickly; the rest after a call's length.
    const endsAt = now + (outcome === "busy" || outcome === "failed" ? Math.min(ms, 1000) : ms);
    const final: CallEvent = {
      kind: "final",
      batchId: p.batchId,
      seq: p.seq,
      attempt: p.attempt,
      outcome,
      at: endsAt,
      durationSec: connected(outcome) ? p.callSeconds : null,
      providerCallId,
    };
    // Only the final report: the consumer already recorded the provider call id, which is all a progress report would add.
    this.calls.owe(endsAt, JSON.stringify(final));
    return providerCallId;
  }

  private async armForEarliest(): Promise<void> {
    const next = this.calls.earliestDue();
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
    const due = this.calls.due(this.ports.now(), 500);
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
          for (const c of chunk) this.calls.delivered(c.id);
        } catch (err) {
          failed ??= err;
        }
      }),
    );
    await this.armForEarliest();
    if (failed) throw failed;
  }
}
