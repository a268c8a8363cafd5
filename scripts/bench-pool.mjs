#!/usr/bin/env node
// @ts-check
/**
 * The caller-ID pool and the contact policy under load (issue 18), in the
 * runtime bench:scale uses: `wrangler dev --local` on fresh state, driven
 * over HTTP with METRICS=on and 0-second simulated calls. `npm run bench`
 * runs it after the scale section and puts its figures under `pool` and
 * `contactPolicy`; run directly (`node scripts/bench-pool.mjs`) it prints a
 * table and, as its last line, the JSON.
 *
 * Its own server, started with SIM_RESULTS=off: with results on, each
 * call's report and transcript PUT cost the one local thread about four
 * times what the engine does (README, "The agent's results"), which could
 * cap the pool below its 100/s and would hide what the policy costs the
 * engine behind the simulated agent's own work.
 *
 * 1. pool: a workspace at 1,000 calls/s and 1,000 concurrent, a simulated
 *    agent with 100 numbers (+1 415 555 0100 … 0199, fictional) and
 *    callerId {strategy: "round_robin", perNumber: {callsPerSecond: 1}},
 *    one batch of BENCH_POOL_CALLS (default 3,000) answered calls. Every
 *    attempt's start time and caller ID are read from results.jsonl
 *    (attemptHistory), the times the limiter recorded. achievedPerSec:
 *    completions over the batch's startTime → completedTime (the pool allows
 *    100/s); worstPerNumberInOneSecond: the most starts of one number in any
 *    sliding 1,000 ms window (must be 1); violations: windows of one number
 *    holding more than callsPerSecond starts (must be 0), with the first
 *    offending starts in `violationSamples`. BENCH_POOL_STARTS=<file> writes
 *    every attempt's caller ID and start there (CSV). BENCH_SKIP_POOL=1 skips it.
 * 2. contactPolicy: the one-batch scale run (BENCH_SCALE_CALLS, default
 *    3,000 distinct answered numbers, so the policy holds none) on a
 *    workspace with contactPolicy {maxAttempts: [{count: 3, hours: 24}]},
 *    against the same run on a twin workspace without one (same limits,
 *    1,000/s and 1,000 concurrent). The runs alternate — off, on, then on,
 *    off, … for BENCH_POLICY_PAIRS pairs (default 3) — so a shared machine's
 *    drift falls on both sides; each side's figure is its median.
 *    completedPerSec as the scale runs count it (first 201 → last
 *    completion); doRequestsPerCall: every Durable Object request (the
 *    batch's object, the limiter, the simulated carrier) per dial, net of the
 *    status polls; cpuMsPerCall: CPU time of the server's processes per
 *    call (/proc), which other load on a shared machine moves far less than
 *    it moves the rates. Targets: ratio ≥ 0.9, addedDoRequestsPerCall ≤ 0.05.
 *    BENCH_SKIP_POLICY=1 skips it.
 *
 * BENCH_SCALE_RUNTIME, BENCH_SCALE_POLL_MS, BENCH_SCALE_TIMEOUT_MS,
 * BENCH_SCALE_LOG_LEVEL and BENCH_SCALE_KEEP apply as in bench:scale.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { defaults, endTimes, measurePollCost, median, numbers, RUNTIMES, round, runBatches, show, steadyRate, table } from "./bench-scale.mjs";
import { client, startServer, tail } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof numbers>} Numbers */
/** @typedef {Record<string, number>} Counters */
/** @typedef {Record<string, number | null>} PollCost */
/** @typedef {ReturnType<typeof options>} Options */
/** @typedef {{ from: string, at: number }} Start one attempt's caller ID and start time (epoch ms) */

const LIMITS = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };
const POOL_SIZE = 100;
const CALLER_ID = { strategy: "round_robin", perNumber: { callsPerSecond: 1 } };
const POLICY = { maxAttempts: [{ count: 3, hours: 24 }] };
/** The order of the policy runs in even and odd pairs. */
const OFF_ON = /** @type {const} */ (["off", "on"]);
const ON_OFF = /** @type {const} */ (["on", "off"]);
/** The limiter's window: a start counts against its number for 1,000 ms, so two starts fit one window when less than this apart. */
const WINDOW_MS = 1000;

/** The pool: +1 415 555 0100 … 0199, lines set aside for fiction, valid NANP numbers. */
const poolNumbers = () => Array.from({ length: POOL_SIZE }, (_, i) => `+1415555${String(100 + i).padStart(4, "0")}`);

function options() {
  const env = process.env;
  return {
    ...defaults(),
    poolCalls: Number(env.BENCH_POOL_CALLS) || 3000,
    policyPairs: Number(env.BENCH_POLICY_PAIRS) || 3,
    skipPool: env.BENCH_SKIP_POOL === "1",
    startsFile: env.BENCH_POOL_STARTS || null,
    skipPolicy: env.BENCH_SKIP_POLICY === "1",
    log: (/** @type {string} */ line) => process.stderr.write(`bench:pool: ${line}\n`),
  };
}

/**
 * Starts per number in sliding windows. A window of 1,000 ms holds two
 * starts of a number when they are less than WINDOW_MS apart (the
 * limiter's rule), so with each number's starts sorted: the most in one
 * window is the longest run whose last start is within WINDOW_MS of its
 * first, and start i breaks a limit of `perSecond` when it is within
 * WINDOW_MS of start i − perSecond (for 1 a second: of the previous one).
 * @param {Start[]} starts
 * @param {number} perSecond
 */
export function perNumberWindows(starts, perSecond) {
  /** @type {Map<string, number[]>} */
  const byNumber = new Map();
  for (const s of starts) {
    const list = byNumber.get(s.from);
    if (list) list.push(s.at);
    else byNumber.set(s.from, [s.at]);
  }
  let worst = 0;
  let violations = 0;
  /** @type {number[]} */
  const gaps = [];
  /** @type {{ from: string, startsMs: number[] }[]} */
  const violationSamples = [];
  for (const [from, times] of byNumber) {
    times.sort((a, b) => a - b);
    let first = 0;
    for (let i = 0; i < times.length; i++) {
      const at = /** @type {number} */ (times[i]);
      while (at - /** @type {number} */ (times[first]) >= WINDOW_MS) first++;
      worst = Math.max(worst, i - first + 1);
      if (i > 0) gaps.push(at - /** @type {number} */ (times[i - 1]));
      if (i >= perSecond && at - /** @type {number} */ (times[i - perSecond]) < WINDOW_MS) {
        violations++;
        if (violationSamples.length < 10) violationSamples.push({ from, startsMs: times.slice(i - perSecond, i + 1) });
      }
    }
  }
  const counts = [...byNumber.values()].map((t) => t.length);
  gaps.sort((a, b) => a - b);
  /** @param {number} q */
  const quantile = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] ?? null;
  return {
    worstPerNumberInOneSecond: worst,
    violations,
    numbersUsed: byNumber.size,
    startsPerNumber: counts.length ? { min: Math.min(...counts), max: Math.max(...counts) } : null,
    // How long a number rests between its starts: 1,000 ms at the most a limit of 1 a second allows.
    gapMsOneNumber: gaps.length ? { min: quantile(0), median: quantile(0.5), p90: quantile(0.9), max: quantile(1) } : null,
    violationSamples,
  };
}

/**
 * The most starts in any sliding 1,000 ms window, all numbers together.
 * @param {number[]} times sorted
 */
function worstWindow(times) {
  let worst = 0;
  for (let i = 0, first = 0; i < times.length; i++) {
    while (Number(times[i]) - Number(times[first]) >= WINDOW_MS) first++;
    worst = Math.max(worst, i - first + 1);
  }
  return worst;
}

/**
 * Every attempt's caller ID and start, from results.jsonl (one request
 * for the batch), and how many attempts had no caller ID recorded.
 * @param {Api} api
 * @param {string} batchId
 */
async function attemptStarts(api, batchId) {
  const res = await api.raw("GET", `/v1/api/batch-calls/${batchId}/results.jsonl`);
  const text = await res.text();
  if (!res.ok) throw new Error(`results.jsonl: ${res.status}: ${text.slice(0, 300)}`);
  /** @type {Start[]} */
  const starts = [];
  let withoutFrom = 0;
  for (const line of text.split("\n")) {
    if (!line) continue;
    /** @type {{ attemptHistory: { from: string | null, startTime: number | null }[] }} */
    const call = JSON.parse(line);
    for (const a of call.attemptHistory) {
      if (a.startTime === null) continue;
      if (a.from === null) withoutFrom++;
      else starts.push({ from: a.from, at: a.startTime });
    }
  }
  return { starts, withoutFrom };
}

/**
 * Every Durable Object request (rpc.<class>, whatever the class) and the
 * limiter's and D1's, per dial, net of the status polls.
 * @param {Counters} counters
 * @param {number} dials
 * @param {number} polls
 * @param {PollCost} pollCost
 */
function objectCosts(counters, dials, polls, pollCost) {
  /** @param {string} name */
  const net = (name) => Math.max(0, (counters[name] ?? 0) - polls * (pollCost[name] ?? 0));
  const classes = Object.keys({ ...counters, ...pollCost }).filter((k) => /^rpc\.[^.]+$/.test(k));
  const all = classes.reduce((n, k) => n + net(k), 0);
  /** @param {number} n */
  const per = (n) => (dials > 0 ? round(n / dials, 3) : null);
  return {
    doRequestsPerCall: per(all),
    schedulerRpcsPerCall: per(net("rpc.BatchScheduler")),
    limiterRpcsPerCall: per(net("rpc.WorkspaceLimiter")),
    d1QueriesPerCall: per(net("d1.statements")),
  };
}

/**
 * The pids of the server's process group (wrangler's host or CLI and its
 * workerd), found by the state dir on the leader's command line.
 * @param {string} dir
 */
function serverPids(dir) {
  const rows = spawnSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter(/** @returns {m is RegExpMatchArray} */ (m) => m !== null);
  const leader = rows.find((m) => m[1] === m[2] && m[3]?.includes(dir));
  return leader ? rows.filter((m) => m[2] === leader[2]).map((m) => Number(m[1])) : [];
}

const TICKS_PER_SEC = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/**
 * CPU time (user + system, ms) the processes have used so far: what a run
 * costs the machine, which other load on a shared machine moves far less
 * than it moves the run's wall time.
 * @param {number[]} pids
 */
function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After "(comm) " the fields run from the 3rd (state); utime and stime are the 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone, or no /proc here
    }
  }
  return (ticks * 1000) / TICKS_PER_SEC;
}

/**
 * One pair's on ÷ off completion rate.
 * @param {{ policy: string, completedPerSec: number | null }[]} pair
 */
function pairRatio(pair) {
  const on = pair.find((r) => r.policy === "on")?.completedPerSec;
  const off = pair.find((r) => r.policy === "off")?.completedPerSec;
  return on && off ? round(on / off, 3) : null;
}

/**
 * A workspace under LIMITS (with `contactPolicy` when given) and a
 * simulated agent; the client then speaks for that workspace.
 * @param {Api} api
 * @param {string} admin
 * @param {string} name
 * @param {{ contactPolicy?: unknown, agent?: Record<string, unknown> }} [extra]
 */
async function workspace(api, admin, name, extra = {}) {
  const json = extra.contactPolicy ? { name, rateLimits: LIMITS, contactPolicy: extra.contactPolicy } : { name, rateLimits: LIMITS };
  const ws = await api.call("POST", "/v1/admin/workspaces", { admin, json, expect: [201] });
  if (extra.contactPolicy && !ws.body.contactPolicy) throw new Error(`the workspace was created without its contactPolicy: ${JSON.stringify(ws.body)}`);
  const use = () => api.useKey(ws.body.apiKey, ws.body.workspaceId);
  use();
  const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated", ...extra.agent }, expect: [201] });
  return { agentId: /** @type {string} */ (agent.body.agentId), agent: agent.body, use };
}

/**
 * @param {Api} api
 * @param {string} admin
 * @param {Numbers} nums
 * @param {Options} opts
 * @param {(batchId: string) => Promise<PollCost>} pollCost what a status poll costs, measured on a finished batch
 */
async function poolRun(api, admin, nums, opts, pollCost) {
  const ws = await workspace(api, admin, "bench-pool", { agent: { fromNumbers: poolNumbers(), callerId: CALLER_ID } });
  if (ws.agent.fromNumbers?.length !== POOL_SIZE) throw new Error(`the agent was created with ${ws.agent.fromNumbers?.length} numbers, not ${POOL_SIZE}`);
  opts.log(`pool: one batch of ${opts.poolCalls} calls, ${POOL_SIZE} numbers at ${CALLER_ID.perNumber.callsPerSecond} call/s each…`);
  const { ids, finals, run, counters } = await runBatches(api, admin, ws.agentId, nums, 1, { ...opts, callsPerBatch: opts.poolCalls });
  const id = /** @type {string} */ (ids[0]);
  const final = /** @type {NonNullable<typeof finals[0]>} */ (finals[0]);
  const costs = objectCosts(counters, run.dials, run.statusPolls, await pollCost(id));
  const { starts, withoutFrom } = await attemptStarts(api, id);
  if (opts.startsFile) {
    writeFileSync(opts.startsFile, `from,start_ms\n${starts.map((s) => `${s.from},${s.at}`).join("\n")}\n`);
    opts.log(`pool: every attempt's caller ID and start written to ${opts.startsFile}`);
  }
  const windows = perNumberWindows(starts, CALLER_ID.perNumber.callsPerSecond);
  const times = starts.map((s) => s.at).sort((a, b) => a - b);
  return {
    numbers: POOL_SIZE,
    calls: opts.poolCalls,
    achievedPerSec: round(opts.poolCalls / ((Number(final.completedTime) - Number(final.startTime)) / 1000)),
    worstPerNumberInOneSecond: windows.worstPerNumberInOneSecond,
    violations: windows.violations,
    perNumberCallsPerSecond: CALLER_ID.perNumber.callsPerSecond,
    attempts: starts.length + withoutFrom,
    attemptsWithoutCallerId: withoutFrom,
    numbersUsed: windows.numbersUsed,
    startsPerNumber: windows.startsPerNumber,
    gapMsOneNumber: windows.gapMsOneNumber,
    worstStartsInOneSecond: worstWindow(times),
    startsPerSec: times.length > 1 ? round((times.length - 1) / ((Number(times.at(-1)) - Number(times[0])) / 1000)) : null,
    steadyCompletedPerSec: steadyRate(await endTimes(api, ids)),
    firstDialAfter201Ms: run.firstDialAfter201Ms,
    ...costs,
    violationSamples: windows.violationSamples,
  };
}

/**
 * @param {Api} api
 * @param {string} admin
 * @param {Numbers} nums
 * @param {Options} opts
 * @param {(batchId: string) => Promise<PollCost>} pollCost what a status poll costs, measured on a finished batch
 * @param {() => number | null} cpu the server's CPU time so far (ms), null when it cannot be read
 */
async function policyRuns(api, admin, nums, opts, pollCost, cpu) {
  const sides = { off: await workspace(api, admin, "bench-policy-off"), on: await workspace(api, admin, "bench-policy-on", { contactPolicy: POLICY }) };
  /** @type {({ policy: "off" | "on", completedPerSec: number | null, steadyCompletedPerSec: number | null, cpuMsPerCall: number | null } & ReturnType<typeof objectCosts>)[]} */
  const runs = [];
  for (let pair = 0; pair < opts.policyPairs; pair++) {
    for (const policy of pair % 2 ? ON_OFF : OFF_ON) {
      const ws = sides[policy];
      ws.use();
      const cpuBefore = cpu();
      const { ids, run, counters } = await runBatches(api, admin, ws.agentId, nums, 1, opts);
      const cpuAfter = cpu();
      const measured = {
        policy,
        completedPerSec: run.completedPerSec,
        steadyCompletedPerSec: steadyRate(await endTimes(api, ids)),
        cpuMsPerCall: cpuBefore !== null && cpuAfter !== null && run.dials > 0 ? round((cpuAfter - cpuBefore) / run.dials, 3) : null,
        ...objectCosts(counters, run.dials, run.statusPolls, await pollCost(/** @type {string} */ (ids[0]))),
      };
      runs.push(measured);
      opts.log(
        `contact policy ${policy}: ${measured.completedPerSec} completed/s (steady ${measured.steadyCompletedPerSec}), ` +
          `${measured.doRequestsPerCall} object requests (${measured.limiterRpcsPerCall} limiter), ${measured.d1QueriesPerCall} D1 statements, ` +
          `${measured.cpuMsPerCall} ms of the server's CPU per call`,
      );
    }
  }
  /**
   * @param {"off" | "on"} policy
   * @param {"completedPerSec" | "doRequestsPerCall" | "limiterRpcsPerCall" | "d1QueriesPerCall" | "cpuMsPerCall"} key
   */
  const mid = (policy, key) => median(runs.filter((r) => r.policy === policy).map((r) => r[key] ?? Number.NaN));
  const [on, off] = [mid("on", "completedPerSec"), mid("off", "completedPerSec")];
  const [onRpc, offRpc] = [mid("on", "doRequestsPerCall"), mid("off", "doRequestsPerCall")];
  return {
    completedPerSec: round(on),
    baselineCompletedPerSec: round(off),
    ratio: on !== null && off ? round(on / off, 3) : null,
    doRequestsPerCall: round(onRpc, 3),
    baselineDoRequestsPerCall: round(offRpc, 3),
    addedDoRequestsPerCall: onRpc !== null && offRpc !== null ? round(onRpc - offRpc, 3) : null,
    limiterRpcsPerCall: round(mid("on", "limiterRpcsPerCall"), 3),
    baselineLimiterRpcsPerCall: round(mid("off", "limiterRpcsPerCall"), 3),
    d1QueriesPerCall: round(mid("on", "d1QueriesPerCall"), 3),
    baselineD1QueriesPerCall: round(mid("off", "d1QueriesPerCall"), 3),
    // CPU time of the server's processes per call (wrangler's host and workerd, upload included): the
    // cost other load on a shared machine hardly moves, where it moves the rates above a lot.
    cpuMsPerCall: round(mid("on", "cpuMsPerCall"), 3),
    baselineCpuMsPerCall: round(mid("off", "cpuMsPerCall"), 3),
    policy: POLICY,
    calls: opts.callsPerBatch,
    pairs: opts.policyPairs,
    // on ÷ off within each pair, the two runs next to each other: how much of the spread is the machine.
    pairRatios: Array.from({ length: opts.policyPairs }, (_, i) => pairRatio(runs.slice(2 * i, 2 * i + 2))),
    runs,
  };
}

/**
 * Starts `wrangler dev` on fresh state (SIM_RESULTS=off), measures the pool
 * and the policy's cost, stops it. Throws (after stopping the server) if a
 * batch fails or a wait times out; a pool that breaks its limits is a
 * figure (violations), not an error.
 * @param {Partial<Options>} [overrides]
 */
export async function runPool(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  const started = Date.now();
  if (opts.skipPool && opts.skipPolicy) return { pool: { skipped: true }, contactPolicy: { skipped: true } };
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const server = await startServer(log, opts.runtime, { vars: { METRICS: "on", SIM_RESULTS: "off" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const nums = numbers();
    /** @type {PollCost | null} */
    let cost = null;
    /** What a status poll costs, measured once on the first finished batch (engine idle). */
    const pollCost = async (/** @type {string} */ batchId) => (cost ??= await measurePollCost(api, admin, batchId));

    let pool = null;
    if (opts.skipPool) log("BENCH_SKIP_POOL=1: skipping the pool");
    else {
      pool = await poolRun(api, admin, nums, opts, pollCost);
      log(
        `pool: ${pool.achievedPerSec} calls/s over ${pool.numbersUsed} numbers, worst ${pool.worstPerNumberInOneSecond} start(s) of one number in 1 s, ` +
          `${pool.violations} violations (starts of one number ${JSON.stringify(pool.gapMsOneNumber)} ms apart); worst ${pool.worstStartsInOneSecond} starts in 1 s overall`,
      );
      if (pool.violations > 0) log(`WARNING: per-number limit broken, e.g. ${JSON.stringify(pool.violationSamples.slice(0, 3))}`);
    }
    let contactPolicy = null;
    if (opts.skipPolicy) log("BENCH_SKIP_POLICY=1: skipping the contact policy's cost");
    else {
      const pids = serverPids(server.dir);
      if (pids.length === 0) log("WARNING: the server's processes were not found: no CPU time per call");
      contactPolicy = await policyRuns(api, admin, nums, opts, pollCost, () => (pids.length ? cpuMs(pids) : null));
      log(
        `contact policy: ${contactPolicy.completedPerSec} completed/s against ${contactPolicy.baselineCompletedPerSec} without (ratio ${contactPolicy.ratio}); ` +
          `object requests per call ${contactPolicy.doRequestsPerCall} against ${contactPolicy.baselineDoRequestsPerCall} (+${contactPolicy.addedDoRequestsPerCall})`,
      );
    }
    return {
      pool: pool ?? { skipped: true },
      contactPolicy: contactPolicy ?? { skipped: true },
      pollCost: cost,
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
  }
}

// ---- printing ------------------------------------------------------------------------------

/**
 * The pool and contact-policy sections as printed by `npm run bench` and by this script.
 * @param {Awaited<ReturnType<typeof runPool>>} r
 */
export function formatPool(r) {
  const lines = [];
  const p = /** @type {Record<string, any>} */ (r.pool);
  if (p.skipped) lines.push("Pool: skipped (BENCH_SKIP_POOL=1)");
  else {
    lines.push(
      `Pool (${r.runtime}, SIM_RESULTS=off): ${show(p.numbers)} numbers at ${p.perNumberCallsPerSecond} call/s each (round_robin), one batch of ${show(p.calls)} answered calls, workspace limit 1,000/s`,
      "",
      table(
        ["measure", "value"],
        [
          [
            "achieved calls/s (batch start → completion)",
            `${show(p.achievedPerSec)} (pool allows ${p.numbers * p.perNumberCallsPerSecond}; steady ${show(p.steadyCompletedPerSec)})`,
          ],
          ["worst starts of one number in any 1 s", String(p.worstPerNumberInOneSecond)],
          ["per-number limit violations", String(p.violations)],
          [
            "gap between starts of one number: min / median / p90 / max",
            `${show(p.gapMsOneNumber?.min)} / ${show(p.gapMsOneNumber?.median)} / ${show(p.gapMsOneNumber?.p90)} / ${show(p.gapMsOneNumber?.max)} ms`,
          ],
          ["numbers used / starts per number", `${show(p.numbersUsed)} / ${show(p.startsPerNumber?.min)}–${show(p.startsPerNumber?.max)}`],
          ["worst starts in any 1 s, all numbers", String(p.worstStartsInOneSecond)],
          ["attempts without a caller ID", String(p.attemptsWithoutCallerId)],
          ["object requests / D1 statements per call", `${show(p.doRequestsPerCall)} / ${show(p.d1QueriesPerCall)}`],
        ],
      ),
    );
  }
  lines.push("");
  const c = /** @type {Record<string, any>} */ (r.contactPolicy);
  if (c.skipped) lines.push("Contact policy: skipped (BENCH_SKIP_POLICY=1)");
  else {
    lines.push(
      `Contact policy ${JSON.stringify(c.policy)}: one batch of ${show(c.calls)} distinct answered numbers, 1,000/s workspace, ${c.pairs} pair(s) of runs alternated, medians`,
      "",
      table(
        ["measure", "policy on", "no policy", "change"],
        [
          ["completed calls/s", show(c.completedPerSec), show(c.baselineCompletedPerSec), `ratio ${show(c.ratio)} (target ≥ 0.9)`],
          ["object requests per call", show(c.doRequestsPerCall), show(c.baselineDoRequestsPerCall), `+${show(c.addedDoRequestsPerCall)} (target ≤ 0.05)`],
          ["limiter requests per call", show(c.limiterRpcsPerCall), show(c.baselineLimiterRpcsPerCall), ""],
          ["D1 statements per call", show(c.d1QueriesPerCall), show(c.baselineD1QueriesPerCall), ""],
          [
            "server CPU ms per call",
            show(c.cpuMsPerCall),
            show(c.baselineCpuMsPerCall),
            c.cpuMsPerCall && c.baselineCpuMsPerCall ? `× ${show(round(c.cpuMsPerCall / c.baselineCpuMsPerCall, 3))}` : "",
          ],
          ["each run, in order (completed/s)", "", "", c.runs.map((/** @type {any} */ x) => `${x.policy} ${show(x.completedPerSec)}`).join(", ")],
          ["on ÷ off within each pair", "", "", c.pairRatios.map((/** @type {number | null} */ x) => show(x)).join(" / ")],
        ],
      ),
    );
  }
  return lines.join("\n");
}

await runIfMain(import.meta.url, "bench:pool", () => runPool(), formatPool);
