#!/usr/bin/env node
// @ts-check
/**
 * What the campaign brakes cost (issue 19): the one-batch scale run with
 * stop rules and a budget on, against the same run without them, in the
 * runtime bench:scale uses (`wrangler dev --local`, METRICS=on, 0-second
 * simulated calls, a 1,000 calls/s workspace). `npm run bench` runs it after
 * the pre-dial check and puts its figures under `safety`; run directly
 * (`node scripts/bench-safety.mjs`) it prints a table and, as its last line,
 * the JSON.
 *
 * "on" uploads each batch with stopRules {maxFailureRate: 0.5,
 * maxVoicemailRate: 0.5, window: 50} and maxMinutes 1,000,000: every
 * finished attempt then writes its slot of the stop window and is judged,
 * and the budget is checked (no call here fails or bills a minute, so
 * neither brake trips: the figures are what watching costs). "off" uploads
 * the same kind of batch without them. After one uncounted warm-up run, the
 * sides alternate — off, on, then on, off, … for BENCH_SAFETY_PAIRS pairs
 * (default 3) — so a shared machine's drift falls on both; each side's
 * figure is its median.
 *
 * - achievedPerSec / baselinePerSec and their ratio (the target:
 *   ≥ 0.9), over the batch's own startTime → completedTime.
 * - rpcsPerCall and d1StatementsPerCall on each side: the steady figures on
 *   a machine whose rate swings between back-to-back runs.
 *
 * BENCH_SKIP_SAFETY=1 skips it; BENCH_SAFETY_CALLS sets the batch size
 * (default 3,000). BENCH_SCALE_RUNTIME, BENCH_SCALE_POLL_MS,
 * BENCH_SCALE_TIMEOUT_MS, BENCH_SCALE_LOG_LEVEL and BENCH_SCALE_KEEP apply
 * as in bench:scale.
 */
import { randomUUID } from "node:crypto";
import { completion } from "./bench-predial.mjs";
import { defaults, median, numbers, RUNTIMES, round, show, table } from "./bench-scale.mjs";
import { client, startServer, tail } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof options>} Options */

const LIMITS = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };
const BRAKES = { stopRules: JSON.stringify({ maxFailureRate: 0.5, maxVoicemailRate: 0.5, window: 50 }), maxMinutes: "1000000" };
const OFF_ON = /** @type {const} */ (["off", "on"]);
const ON_OFF = /** @type {const} */ (["on", "off"]);

function options() {
  const env = process.env;
  return {
    ...defaults(),
    calls: Number(env.BENCH_SAFETY_CALLS) || 3000,
    pairs: Number(env.BENCH_SAFETY_PAIRS) || 3,
    skip: env.BENCH_SKIP_SAFETY === "1",
    log: (/** @type {string} */ line) => process.stderr.write(`bench:safety: ${line}\n`),
  };
}

/**
 * One batch of `opts.calls` answered calls, with the brakes or without, run to completion.
 * @param {Api} api
 * @param {string} admin
 * @param {string} agentId
 * @param {ReturnType<typeof numbers>} nums
 * @param {"on" | "off"} side
 * @param {Options} opts
 */
async function runOne(api, admin, agentId, nums, side, opts) {
  await api.call("DELETE", "/v1/admin/metrics", { admin });
  /** @type {Record<string, string>} */
  const form = { agentId, file: nums.csv(opts.calls), ...(side === "on" ? BRAKES : {}) };
  const upload = await api.call("POST", "/v1/api/batch-calls", { form, idempotencyKey: randomUUID(), expect: [201], timeoutMs: 5 * 60_000 });
  const id = upload.body.batchId;
  if (side === "on") {
    const { body: batch } = await api.call("GET", `/v1/api/batch-calls/${id}`);
    if (!batch.stopRules || batch.maxMinutes !== 1_000_000) throw new Error(`the batch was created without its brakes: ${JSON.stringify(batch)}`);
  }
  const final = await completion(api, id, opts);
  if (final.completed !== opts.calls) throw new Error(`the batch completed ${final.completed} of ${opts.calls} calls (${final.status})`);
  const { body: metrics } = await api.call("GET", "/v1/admin/metrics", { admin });
  if (!metrics.enabled) throw new Error("GET /v1/admin/metrics says metrics are off: METRICS=on did not reach the Worker");
  const dials = metrics.counters["engine.dials"] ?? 0;
  /** @param {string} name */
  const per = (name) => (dials > 0 ? round((metrics.counters[name] ?? 0) / dials, 3) : null);
  return {
    side,
    achievedPerSec: round(opts.calls / ((Number(final.completedTime) - Number(final.startTime)) / 1000)),
    rpcsPerCall: per("rpc.BatchScheduler"),
    d1StatementsPerCall: per("d1.statements"),
    pausedReason: final.pausedReason ?? null,
  };
}

/**
 * Starts `wrangler dev` on fresh state, runs the pairs, stops it. Throws
 * (after stopping it) if a batch fails or a wait times out.
 * @param {Partial<Options>} [overrides]
 */
export async function runSafety(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  if (opts.skip) {
    log("BENCH_SKIP_SAFETY=1: skipping the stop rules and budget");
    return { skipped: true };
  }
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const started = Date.now();
  const server = await startServer(log, opts.runtime, { vars: { METRICS: "on" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const ws = await api.call("POST", "/v1/admin/workspaces", { admin, json: { name: "bench-safety", rateLimits: LIMITS }, expect: [201] });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const nums = numbers();
    // A fresh runtime's first batch is slow (measured: 66 calls/s, then 100–160): one run without brakes first, not counted.
    const warmUp = await runOne(api, admin, agent.body.agentId, nums, "off", opts);
    log(`warm-up (not counted): ${warmUp.achievedPerSec} calls/s`);
    /** @type {Awaited<ReturnType<typeof runOne>>[]} */
    const runs = [];
    for (let pair = 0; pair < opts.pairs; pair++) {
      for (const side of pair % 2 ? ON_OFF : OFF_ON) {
        const run = await runOne(api, admin, agent.body.agentId, nums, side, opts);
        runs.push(run);
        log(`brakes ${side}: ${run.achievedPerSec} calls/s, ${run.rpcsPerCall} object requests and ${run.d1StatementsPerCall} D1 statements per call`);
      }
    }
    /**
     * @param {"on" | "off"} side
     * @param {"achievedPerSec" | "rpcsPerCall" | "d1StatementsPerCall"} key
     */
    const mid = (side, key) => median(runs.filter((r) => r.side === side).map((r) => r[key] ?? Number.NaN));
    const [achieved, baseline] = [mid("on", "achievedPerSec"), mid("off", "achievedPerSec")];
    return {
      achievedPerSec: round(achieved),
      baselinePerSec: round(baseline),
      ratio: achieved !== null && baseline ? round(achieved / baseline, 3) : null,
      rpcsPerCall: round(mid("on", "rpcsPerCall"), 3),
      baselineRpcsPerCall: round(mid("off", "rpcsPerCall"), 3),
      d1StatementsPerCall: round(mid("on", "d1StatementsPerCall"), 3),
      baselineD1StatementsPerCall: round(mid("off", "d1StatementsPerCall"), 3),
      autoPauses: runs.filter((r) => r.pausedReason).length,
      warmUpPerSec: warmUp.achievedPerSec,
      calls: opts.calls,
      pairs: opts.pairs,
      runs,
      config: {
        rateLimits: LIMITS,
        brakes: { stopRules: JSON.parse(BRAKES.stopRules), maxMinutes: Number(BRAKES.maxMinutes) },
        simCallSeconds: 0,
        pollMs: opts.pollMs,
      },
      networkRetries: api.retries(),
      tookMs: Date.now() - started,
      runtime: RUNTIMES[opts.runtime],
    };
  } catch (err) {
    log(`failed; the end of wrangler dev's log:\n${tail(server.logPath, 60)}`);
    throw err;
  } finally {
    await server.stop();
  }
}

/**
 * The section as printed by `npm run bench` and by this script.
 * @param {Awaited<ReturnType<typeof runSafety>>} r
 */
export function formatSafety(r) {
  const p = /** @type {Record<string, any>} */ (r);
  if (p.skipped) return "Stop rules and budget: skipped (BENCH_SKIP_SAFETY=1)";
  return [
    `Stop rules and budget (${p.runtime}): one batch of ${show(p.calls)} answered calls, 1,000/s workspace; ${p.pairs} pair(s) alternated, medians`,
    "",
    table(
      ["measure", "with stop rules and budget", "without", "change"],
      [
        ["calls/s (batch start → completion)", show(p.achievedPerSec), show(p.baselinePerSec), `ratio ${show(p.ratio)}`],
        ["object requests per call", show(p.rpcsPerCall), show(p.baselineRpcsPerCall), ""],
        ["D1 statements per call", show(p.d1StatementsPerCall), show(p.baselineD1StatementsPerCall), ""],
        ["each run, in order (calls/s)", "", "", p.runs.map((/** @type {any} */ x) => `${x.side} ${show(x.achievedPerSec)}`).join(", ")],
      ],
    ),
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:safety", () => runSafety(), formatSafety);
