#!/usr/bin/env node
// @ts-check
/**
 * The pre-dial check's cost (issue 19), in the runtime bench:scale uses:
 * `wrangler dev --local` on fresh state, driven over HTTP with METRICS=on,
 * SIM_RESULTS=off (as bench-pool.mjs, so the simulated agent's own work does
 * not hide the engine's) and 0-second simulated calls. `npm run bench` runs
 * it last and puts its figures under `predial`; run directly
 * (`node scripts/bench-predial.mjs`) it prints a table and, as its last
 * line, the JSON.
 *
 * A local Node HTTP receiver answers every check with {"dial": true} at once
 * (after checking its Standard Webhooks signature with the workspace's
 * secret: `badSignatures` must be 0). One workspace at 1,000 calls/s and
 * 1,000 concurrent, a simulated agent, batches of BENCH_PREDIAL_CALLS
 * (default 3,000) distinct answered numbers: with preDialUrl pointing at the
 * receiver ("on") and without ("off"), alternated — off, on, then on, off,
 * … for BENCH_PREDIAL_PAIRS pairs (default 2) — so a shared machine's
 * drift falls on both sides; each side's figure is its median.
 *
 * - achievedPerSec / baselinePerSec: completions over the batch's own
 *   startTime → completedTime, with the check and without.
 * - addedMsPerDial: the median time the consumer spent on the check before
 *   a dial, as the Worker measured it (samples["pre_dial.ms"]): the latency
 *   the check adds to each call's start. addedMsPerCallFromRates is the
 *   throughput view, 1000/achieved − 1000/baseline.
 * - checksPerDial (must be 1: one check per attempt), receiverRequests,
 *   receiverMsMedian (the receiver's own handling time) and badSignatures.
 *
 * BENCH_SKIP_PREDIAL=1 skips it. BENCH_SCALE_RUNTIME, BENCH_SCALE_POLL_MS,
 * BENCH_SCALE_TIMEOUT_MS, BENCH_SCALE_LOG_LEVEL and BENCH_SCALE_KEEP apply
 * as in bench:scale.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { defaults, median, numbers, RUNTIMES, round, show, table } from "./bench-scale.mjs";
import { client, freePort, sleep, startServer, tail } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof options>} Options */
/** @typedef {Awaited<ReturnType<typeof startReceiver>>} Receiver */

const LIMITS = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };
/** The order of the runs in even and odd pairs. */
const OFF_ON = /** @type {const} */ (["off", "on"]);
const ON_OFF = /** @type {const} */ (["on", "off"]);

function options() {
  const env = process.env;
  return {
    ...defaults(),
    calls: Number(env.BENCH_PREDIAL_CALLS) || 3000,
    pairs: Number(env.BENCH_PREDIAL_PAIRS) || 2,
    skip: env.BENCH_SKIP_PREDIAL === "1",
    log: (/** @type {string} */ line) => process.stderr.write(`bench:predial: ${line}\n`),
  };
}

/**
 * Does `headers` carry a Standard Webhooks v1 signature of `body` by `secret` (whsec_<base64 key>)?
 * @param {string} secret
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {string} body
 */
function signedBy(secret, headers, body) {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sigs = headers["webhook-signature"];
  if (typeof id !== "string" || typeof ts !== "string" || typeof sigs !== "string") return false;
  const key = secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret);
  const expected = Buffer.from(`v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`);
  return sigs.split(" ").some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * The pre-dial receiver: answers {"dial": true} at once to every POST,
 * counting requests and bad signatures and timing its own handling.
 */
async function startReceiver() {
  let secret = "";
  /** @type {{ requests: number, badSignatures: number, handleMs: number[] }} */
  const stats = { requests: 0, badSignatures: 0, handleMs: [] };
  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      stats.requests++;
      if (!signedBy(secret, req.headers, Buffer.concat(chunks).toString("utf8"))) stats.badSignatures++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"dial":true}');
      stats.handleMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
  server.keepAliveTimeout = 30_000;
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
  return {
    url: `http://127.0.0.1:${port}/pre-dial`,
    /** @param {string} s the workspace's webhook secret, which must sign every check */
    useSecret: (s) => (secret = s),
    /** Counts since the last call, and resets them. */
    take: () => {
      const taken = { requests: stats.requests, badSignatures: stats.badSignatures, handleMs: stats.handleMs };
      Object.assign(stats, { requests: 0, badSignatures: 0, handleMs: [] });
      return taken;
    },
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

/**
 * Polls the batch's status every `pollMs` until it has completed (bench-safety.mjs uses it too).
 * @param {Api} api
 * @param {string} id
 * @param {Options} opts
 */
export async function completion(api, id, opts) {
  const deadline = Date.now() + opts.runTimeoutMs;
  for (;;) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/status`);
    if (body.status === "completed") return body;
    if (body.isComplete) throw new Error(`batch ${id} ended as ${body.status}, not completed: ${JSON.stringify({ ...body, recent_calls: undefined })}`);
    if (Date.now() > deadline) throw new Error(`batch ${id} not completed after ${opts.runTimeoutMs} ms: ${body.completed}/${body.total} done`);
    await sleep(opts.pollMs);
  }
}

/**
 * One batch of `opts.calls` calls, with the check at `preDialUrl` or without, run to completion.
 * @param {Api} api
 * @param {string} admin
 * @param {string} agentId
 * @param {ReturnType<typeof numbers>} nums
 * @param {string | null} preDialUrl
 * @param {Options} opts
 */
async function runOne(api, admin, agentId, nums, preDialUrl, opts) {
  await api.call("DELETE", "/v1/admin/metrics", { admin });
  /** @type {Record<string, string>} */
  const form = { agentId, file: nums.csv(opts.calls) };
  if (preDialUrl) form.preDialUrl = preDialUrl;
  const upload = await api.call("POST", "/v1/api/batch-calls", { form, idempotencyKey: randomUUID(), expect: [201], timeoutMs: 5 * 60_000 });
  if (upload.body.totalCalls !== opts.calls) throw new Error(`upload accepted ${upload.body.totalCalls} calls, not ${opts.calls}`);
  if (preDialUrl) {
    const { body: batch } = await api.call("GET", `/v1/api/batch-calls/${upload.body.batchId}`);
    if (batch.preDial?.url !== preDialUrl) throw new Error(`the batch was created without its preDial: ${JSON.stringify(batch.preDial)}`);
  }
  const final = await completion(api, upload.body.batchId, opts);
  if (final.completed !== opts.calls)
    throw new Error(`the batch completed ${final.completed} of ${opts.calls} calls (cancelled ${final.cancelled}, failed ${final.failed})`);
  const { body: metrics } = await api.call("GET", "/v1/admin/metrics", { admin });
  if (!metrics.enabled) throw new Error("GET /v1/admin/metrics says metrics are off: METRICS=on did not reach the Worker");
  const dials = metrics.counters["engine.dials"] ?? 0;
  /** @type {number[]} */
  const checkMs = metrics.samples["pre_dial.ms"] ?? [];
  return {
    preDial: preDialUrl ? "on" : "off",
    achievedPerSec: round(opts.calls / ((Number(final.completedTime) - Number(final.startTime)) / 1000)),
    completedPerSecFrom201: round(opts.calls / ((Number(final.completedTime) - upload.at) / 1000)),
    dials,
    checks: metrics.counters["engine.pre_dial_checks"] ?? 0,
    checkMsMedian: round(median(checkMs), 2),
    checkMsP90: checkMs.length ? round([...checkMs].sort((a, b) => a - b)[Math.floor(checkMs.length * 0.9)], 2) : null,
  };
}

/**
 * Starts `wrangler dev` on fresh state and the receiver, runs the pairs,
 * stops both. Throws (after stopping them) if a batch fails or a wait times out.
 * @param {Partial<Options>} [overrides]
 */
export async function runPreDial(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  if (opts.skip) {
    log("BENCH_SKIP_PREDIAL=1: skipping the pre-dial check");
    return { skipped: true };
  }
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const started = Date.now();
  const receiver = await startReceiver();
  const server = await startServer(log, opts.runtime, { vars: { METRICS: "on", SIM_RESULTS: "off" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const ws = await api.call("POST", "/v1/admin/workspaces", { admin, json: { name: "bench-predial", rateLimits: LIMITS }, expect: [201] });
    receiver.useSecret(ws.body.webhookSecret);
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const nums = numbers();
    /** @type {(Awaited<ReturnType<typeof runOne>> & { receiverRequests: number, badSignatures: number, receiverMsMedian: number | null })[]} */
    const runs = [];
    for (let pair = 0; pair < opts.pairs; pair++) {
      for (const side of pair % 2 ? ON_OFF : OFF_ON) {
        receiver.take();
        const run = await runOne(api, admin, agent.body.agentId, nums, side === "on" ? receiver.url : null, opts);
        const got = receiver.take();
        runs.push({ ...run, receiverRequests: got.requests, badSignatures: got.badSignatures, receiverMsMedian: round(median(got.handleMs), 3) });
        log(
          `pre-dial ${side}: ${run.achievedPerSec} calls/s (from the 201: ${run.completedPerSecFrom201}), ${run.checks} checks for ${run.dials} dials, ` +
            `check ${run.checkMsMedian} ms median (p90 ${run.checkMsP90}), receiver saw ${got.requests} (${got.badSignatures} badly signed)`,
        );
      }
    }
    /**
     * @param {"on" | "off"} side
     * @param {"achievedPerSec" | "completedPerSecFrom201" | "checkMsMedian"} key
     */
    const mid = (side, key) => median(runs.filter((r) => r.preDial === side).map((r) => r[key] ?? Number.NaN));
    const on = runs.filter((r) => r.preDial === "on");
    const [achieved, baseline] = [mid("on", "achievedPerSec"), mid("off", "achievedPerSec")];
    const dials = on.reduce((n, r) => n + r.dials, 0);
    return {
      achievedPerSec: round(achieved),
      baselinePerSec: round(baseline),
      addedMsPerDial: round(mid("on", "checkMsMedian"), 2),
      ratio: achieved !== null && baseline ? round(achieved / baseline, 3) : null,
      addedMsPerCallFromRates: achieved && baseline ? round(1000 / achieved - 1000 / baseline, 3) : null,
      completedPerSecFrom201: round(mid("on", "completedPerSecFrom201")),
      baselineCompletedPerSecFrom201: round(mid("off", "completedPerSecFrom201")),
      checksPerDial: dials > 0 ? round(on.reduce((n, r) => n + r.checks, 0) / dials, 3) : null,
      receiverRequests: on.reduce((n, r) => n + r.receiverRequests, 0),
      badSignatures: on.reduce((n, r) => n + r.badSignatures, 0),
      receiverMsMedian: round(median(on.map((r) => r.receiverMsMedian ?? Number.NaN)), 3),
      calls: opts.calls,
      pairs: opts.pairs,
      runs,
      config: { rateLimits: LIMITS, simCallSeconds: 0, simResults: "off", pollMs: opts.pollMs },
      networkRetries: api.retries(),
      tookMs: Date.now() - started,
      runtime: RUNTIMES[opts.runtime],
    };
  } catch (err) {
    log(`failed; the end of wrangler dev's log:\n${tail(server.logPath, 60)}`);
    throw err;
  } finally {
    await server.stop();
    await receiver.close();
  }
}

/**
 * The section as printed by `npm run bench` and by this script.
 * @param {Awaited<ReturnType<typeof runPreDial>>} r
 */
export function formatPreDial(r) {
  const p = /** @type {Record<string, any>} */ (r);
  if (p.skipped) return "Pre-dial check: skipped (BENCH_SKIP_PREDIAL=1)";
  return [
    `Pre-dial check (${p.runtime}, SIM_RESULTS=off): one batch of ${show(p.calls)} answered calls, 1,000/s workspace, a local receiver answering {"dial":true} at once; ${p.pairs} pair(s) alternated, medians`,
    "",
    table(
      ["measure", "with the check", "without", "change"],
      [
        ["calls/s (batch start → completion)", show(p.achievedPerSec), show(p.baselinePerSec), `ratio ${show(p.ratio)}`],
        ["calls/s (201 → completion)", show(p.completedPerSecFrom201), show(p.baselineCompletedPerSecFrom201), ""],
        ["ms the check adds before each dial (median)", show(p.addedMsPerDial), "", `throughput view ${show(p.addedMsPerCallFromRates)} ms/call`],
        ["checks per dial / receiver requests", `${show(p.checksPerDial)} / ${show(p.receiverRequests)}`, "", ""],
        ["badly signed checks / receiver ms (median)", `${show(p.badSignatures)} / ${show(p.receiverMsMedian)}`, "", ""],
        ["each run, in order (calls/s)", "", "", p.runs.map((/** @type {any} */ x) => `${x.preDial} ${show(x.achievedPerSec)}`).join(", ")],
      ],
    ),
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:predial", () => runPreDial(), formatPreDial);
