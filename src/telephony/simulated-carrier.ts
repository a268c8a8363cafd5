import { DurableObject } from "cloudflare:workers";
import { getBatchAgentKeys } from "../db/agent.repo";
import { CarrierLog, type OwedResult } from "../db/carrier-log";
import { decryptSecret } from "../lib/crypto";
import { callId } from "../lib/ids";
import { meteredSql } from "../db/metered-sql";
import { instrumentEnv } from "../lib/metrics";
import { signWebhook } from "../lib/signing";
import { clip } from "../lib/text";
import { connected, timeScale } from "../domain/outcome";
import { simulatedOutcome, simulatedResult } from "../domain/simulated";
import { log } from "../lib/log";
import type { CallEvent } from "../domain/call-event";
import { joinUrl } from "./http";

/** Events handed to the batch's object in one call. */
const DELIVERY_CHUNK = 100;
/** Results posted by one alarm, all at once; the rest go in the next alarm, armed at once. */
const RESULTS_PER_ALARM = 100;
/** How long one post of a result may take before it counts as failed (and is tried again). */
const RESULT_TIMEOUT_MS = 10_000;
/** Posts of one result before it is given up, logged: about a quarter of an hour of backoff. */
const MAX_RESULT_TRIES = 10;

export type SimPlacement = {
  batchId: string;
  seq: number;
  attempt: number;
  to: string;
  callSeconds: number;
  /** Post the simulated agent's result when the call is answered (SIM_RESULTS); absent: no result. */
  results?: boolean;
  /** The dial's variables: the result's transcript greets first_name. */
  variables?: Record<string, string>;
};

/**
 * The carrier's one clock, and how it reaches its own Worker: by default a
 * loopback through ctx.exports (no binding, no network, so it works in
 * wrangler dev, in vitest and deployed alike). Tests replace either inside
 * runInDurableObject.
 */
export type CarrierPorts = { now: () => number; worker: (req: Request) => Promise<Response> };

type PostOutcome = { kind: "done" } | { kind: "refused"; why: string } | { kind: "retry"; why: string; staleSecret?: boolean };

/**
 * A pretend telephone network for local development and tests: no network
 * at all. Each placed call becomes a scheduled status event, delivered by
 * this object's alarm through applyCallEvent, the same path real provider
 * webhooks take. An answered call also gets its simulated agent's result,
 * posted after the final report to POST /v1/agent/calls/{callId}/result
 * and signed with the agent's secret, the same route a real agent uses.
 * One instance per batch; events and results survive restarts.
 */
export class SimulatedCarrier extends DurableObject<Env> {
  private readonly calls: CarrierLog;
  /** The batch's agent's signing secret, read once (this object serves one batch); dropped when the route refuses it. */
  private secret: string | null = null;
  ports: CarrierPorts;
  /** The results the last alarm is posting (tests wait for it). */
  posting: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
    this.calls = new CarrierLog(meteredSql(ctx.storage.sql, "do.SimulatedCarrier", env.METRICS === "on", true).sql);
    this.ports = { now: () => Date.now(), worker: (req) => this.ctx.exports.default.fetch(req) };
  }

  /** The call placed for this attempt, if this carrier ever accepted one. */
  async placement(seq: number, attempt: number): Promise<string | null> {
    return this.calls.placement(seq, attempt);
  }

  async place(p: SimPlacement): Promise<string> {
    const [id] = await this.placeMany([p]);
    return id!;
  }

  /**
   * Several calls of one batch placed at once (one consumer batch's dials): one request, a few
   * statements for them all, one alarm update. A placement repeated for one attempt is the same
   * call: one ring, one report.
   */
  async placeMany(placements: SimPlacement[]): Promise<string[]> {
    const now = this.ports.now();
    const ids = placements.map((p) => `sim_${p.batchId.slice(6)}_${p.seq}_${p.attempt}`);
    const fresh = this.calls.recordDials(
      placements.map((p, i) => ({ seq: p.seq, attempt: p.attempt, providerCallId: ids[i]! })),
      now,
    );
    const reports: { due: number; event: string }[] = [];
    const results: { batchId: string; seq: number; attempt: number; body: string }[] = [];
    placements.forEach((p, i) => {
      // Each new attempt once, even if it came twice in this slice.
      if (fresh.delete(`${p.seq}:${p.attempt}`)) this.record(p, ids[i]!, now, reports, results);
    });
    this.calls.owe(reports);
    this.calls.oweResults(results);
    await this.armForEarliest();
    return ids;
  }

  /** What a newly placed call owes: its final report and, answered with results on, its agent's result. */
  private record(
    p: SimPlacement,
    providerCallId: string,
    now: number,
    reports: { due: number; event: string }[],
    results: { batchId: string; seq: number; attempt: number; body: string }[],
  ): void {
    const outcome = simulatedOutcome(p.to);
    const ms = p.callSeconds * 1000;
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
    reports.push({ due: endsAt, event: JSON.stringify(final) });
    if (p.results && outcome === "answered") {
      const result = simulatedResult({ to: p.to, attempt: p.attempt, variables: p.variables ?? {}, endedAt: endsAt, timeScale: timeScale(this.env) });
      if (result) results.push({ batchId: p.batchId, seq: p.seq, attempt: p.attempt, body: JSON.stringify(result) });
    }
  }

  private async armForEarliest(): Promise<void> {
    const next = this.calls.earliestDue();
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Delivers the due status events, then posts the results whose finals
   * are delivered. A result's failure never holds an event back: events go
   * first, results never throw, and each post is bounded by
   * RESULT_TIMEOUT_MS. Whatever failed stays owed for a later alarm.
   */
  override async alarm(): Promise<void> {
    const failed = await this.deliverEvents();
    // Posted alongside, not before the next alarm: a real agent's post-call report never holds up the carrier's status webhooks.
    this.posting = this.postResults().catch((err: unknown) => log("error", "sim.results_failed", { error: String(err) }));
    this.ctx.waitUntil(this.posting);
    await this.armForEarliest();
    if (failed) throw failed;
  }

  /**
   * Every due event to the batch's object, a chunk per call, as a
   * provider's webhooks would arrive. A chunk that fails stays for the
   * alarm's retry: delivery is at-least-once and applying is idempotent.
   * Returns the first failure.
   */
  private async deliverEvents(): Promise<unknown> {
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
          chunk.forEach(({ event }, i) => {
            if (results[i] !== "unknown_call") return;
            log("warn", "sim.unknown_call", { batchId: event.batchId, seq: event.seq });
            // No call to report on: its result would only be refused.
            this.calls.resultDone(event.seq, event.attempt);
          });
          this.calls.delivered(
            chunk.map(({ id, event }) => ({ id, seq: event.seq, attempt: event.attempt })),
            this.ports.now(),
          );
        } catch (err) {
          failed ??= err;
        }
      }),
    );
    return failed;
  }

  /**
   * Posts the due results, one Worker request each, all at once. Each is
   * posted until the route accepts it (at-least-once; a repeat for the
   * same attempt changes nothing there) or refuses it for good (a 4xx:
   * logged, dropped), with backoff, at most MAX_RESULT_TRIES times.
   */
  private async postResults(): Promise<void> {
    const due = this.calls.resultsDue(this.ports.now(), RESULTS_PER_ALARM);
    if (due.length === 0) return;
    // In flight until settled (or a post's timeout has passed): the next alarm does not post them again meanwhile.
    this.calls.resultsInFlight(due, this.ports.now() + RESULT_TIMEOUT_MS + 1000);
    let secret: string | null = null;
    let unreadable = "the batch's agent has no signing secret";
    try {
      secret = await this.signingSecret(due[0]!.batch_id);
    } catch (err) {
      unreadable = `the agent's signing secret could not be read (${String(err)})`;
    }
    const outcomes = await Promise.all(due.map((r) => (secret ? this.post(r, secret) : Promise.resolve<PostOutcome>({ kind: "retry", why: unreadable }))));
    const now = this.ports.now();
    due.forEach((r, i) => {
      this.settle(r, outcomes[i]!, now);
    });
    await this.armForEarliest();
  }

  private settle(r: OwedResult, o: PostOutcome, now: number): void {
    const fields = { batchId: r.batch_id, seq: r.seq, attempt: r.attempt };
    if (o.kind === "retry" && r.tries + 1 < MAX_RESULT_TRIES) {
      if (o.staleSecret) this.secret = null;
      this.calls.resultRetry(r.seq, r.attempt, now + Math.min(300_000, 1000 * 2 ** r.tries));
      return;
    }
    if (o.kind === "refused") log("warn", "sim.result_refused", { ...fields, why: o.why });
    if (o.kind === "retry") log("error", "sim.result_given_up", { ...fields, tries: r.tries + 1, why: o.why });
    this.calls.resultDone(r.seq, r.attempt);
  }

  /** One result, signed now (Standard Webhooks) with the agent's secret, to the route a real agent posts to. */
  private async post(r: OwedResult, secret: string): Promise<PostOutcome> {
    const id = callId(r.batch_id, r.seq);
    const url = joinUrl(this.env.PUBLIC_BASE_URL || "http://localhost:8787", `/v1/agent/calls/${id}/result`);
    // The webhook id names the attempt's result, the same on every retry. The timestamp is the wall clock's: the route checks it against its own.
    const headers = await signWebhook(secret, `sim_${id}_${r.attempt}`, r.body);
    try {
      const res = await this.ports.worker(
        new Request(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: r.body,
          signal: AbortSignal.timeout(RESULT_TIMEOUT_MS),
        }),
      );
      if (res.ok) {
        await res.body?.cancel();
        return { kind: "done" };
      }
      const why = `${res.status}: ${clip(await res.text(), 300)}`;
      // The secret was rotated since it was read: read it again for the next try.
      if (res.status === 401 || res.status === 403) return { kind: "retry", why, staleSecret: true };
      if (res.status === 408 || res.status === 429 || res.status >= 500) return { kind: "retry", why };
      return { kind: "refused", why };
    } catch (err) {
      return { kind: "retry", why: String(err) };
    }
  }

  private async signingSecret(batchId: string): Promise<string | null> {
    if (this.secret) return this.secret;
    const keys = await getBatchAgentKeys(this.env.DB, batchId);
    this.secret = keys?.signing_secret_enc ? await decryptSecret(keys.signing_secret_enc, this.env.SECRETS_ENCRYPTION_KEY) : null;
    return this.secret;
  }
}
