#!/usr/bin/env node
// @ts-check
/**
 * What live watchers cost (issue 20): the one-batch scale run with 100
 * `/events` subscribers reading the stream to its end, against the same
 * run with none, in the runtime bench:scale uses (`wrangler dev --local`,
 * METRICS=on, 0-second simulated calls, a 1,000 calls/s workspace). `npm run
 * bench` runs it and puts its figures under `watchers`; run directly (`node
 * scripts/bench-watchers.mjs`) it prints a table and, as its last line, the
 * JSON.
 *
 * Each batch is uploaded as a draft (start=false) so that "with" can open
 * its subscribers — each gets its `snapshot` — before the first dial; then
 * POST …/start, and the run is over when every stream has ended and the
 * batch is completed. "without" uploads and starts the same kind of batch.
 * After one uncounted warm-up run, the sides alternate — without, with,
 * then with, without, … for BENCH_WATCHERS_PAIRS pairs (default 3) — so a
 * shared machine's drift falls on both; each side's figure is its median.
 *
 * - withPerSec / withoutPerSec and their ratio (the target:
 *   ≥ 0.95), over the batch's own startTime → completedTime.
 * - cpuMsPerCall on each side: the CPU time of wrangler dev's processes
 *   (workerd and wrangler's Node proxy, from /proc) per call over the run,
 *   so the cost shows even when the rate is held by something else.
 * - per subscriber: the events and bytes it was sent, and whether its
 *   stream opened with a snapshot and ended after a final `progress`.
 *
 * The simulated agent reports no results here (SIM_RESULTS=off): each costs
 * the local thread ~4 ms, which holds one batch near 250 calls/s, while the
 * issue's target is the cost at the workspace limit (1,000/s), where this
 * run dials. BENCH_WATCHERS_RESULTS=1 turns them back on.
 *
 * BENCH_SKIP_WATCHERS=1 skips it; BENCH_WATCHERS_CALLS sets the batch size
 * (default 3,000), BENCH_WATCHERS_SUBSCRIBERS the subscribers (default 100; 0 is
 * an A/A run: both sides alike, the ratio's noise on this machine).
 * BENCH_SCALE_RUNTIME, BENCH_SCALE_POLL_MS, BENCH_SCALE_TIMEOUT_MS,
 * BENCH_SCALE_LOG_LEVEL and BENCH_SCALE_KEEP apply as in bench:scale.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { completion } from "./bench-predial.mjs";
import { defaults, median, numbers, RUNTIMES, round, show, table } from "./bench-scale.mjs";
import { client, startServer, tail } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof options>} Options */
/** @typedef {"with" | "without"} Side */

const LIMITS = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };
const WITHOUT_WITH = /** @type {const} */ (["without", "with"]);
const WITH_WITHOUT = /** @type {const} */ (["with", "without"]);

function options() {
  const env = process.env;
  return {
    ...defaults(),
    calls: Number(env.BENCH_WATCHERS_CALLS) || 3000,
    // 0 runs both sides alike: the machine's own noise in the ratio (an A/A run).
    subscribers: env.BENCH_WATCHERS_SUBSCRIBERS ? Number(env.BENCH_WATCHERS_SUBSCRIBERS) : 100,
    pairs: Number(env.BENCH_WATCHERS_PAIRS) || 3,
    results: env.BENCH_WATCHERS_RESULTS === "1",
    skip: env.BENCH_SKIP_WATCHERS === "1",
    log: (/** @type {string} */ line) => process.stderr.write(`bench:watchers: ${line}\n`),
  };
}

/**
 * CPU milliseconds used so far by every process in a process group, by command (workerd, node; from
 * Linux /proc: none elsewhere), each with its reaped children's (a helper process that exited still counts).
 * @param {number | null} pgid
 */
function groupCpuMs(pgid) {
  /** @type {Record<string, number>} */
  const by = {};
  if (!pgid) return by;
  const tick = 100; // USER_HZ on Linux
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      // The command name, in parentheses, may hold spaces: the fields after it are counted from its ")".
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      by[comm] = (by[comm] ?? 0) + ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / tick;
    } catch {
      // gone
    }
  }
  return by;
}

/**
 * What each command used between two readings of groupCpuMs, in ms per call, and their total.
 * @param {Record<string, number>} before
 * @param {Record<string, number>} after
 * @param {number} calls
 */
function cpuPerCall(before, after, calls) {
  /** @type {Record<string, number | null>} */
  const by = {};
  let total = 0;
  for (const [comm, ms] of Object.entries(after)) {
    const used = ms - (before[comm] ?? 0);
    total += used;
    by[comm] = round(used / calls, 3);
  }
  return { total: round(total / calls, 3), by };
}

/**
 * One subscriber: reads the stream to its end, counting bytes and events (no JSON parsing but the last
 * `progress`, so the reader costs the bench process little).
 * @param {Response} res
 */
async function readStream(res) {
  if (res.status !== 200 || !res.body) throw new Error(`GET …/events answered ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let bytes = 0;
  let events = 0;
  let callEvents = 0;
  let first = "";
  let tailText = "";
  /** @type {() => void} */
  let opened = () => undefined;
  const snapshot = new Promise((/** @type {(v: void) => void} */ r) => (opened = r));
  const done = (async () => {
    for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (/** @type {unknown} */ (res.body))) {
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      if (!first) {
        first = text.slice(0, 40);
        opened();
      }
      for (let i = text.indexOf("event: "); i !== -1; i = text.indexOf("event: ", i + 7)) {
        events++;
        if (text.startsWith("event: call\n", i)) callEvents++;
      }
      tailText = (tailText + text).slice(-200_000);
    }
    opened();
    const blocks = tailText.split("\n\n").filter((b) => b.includes("event: "));
    const last = blocks.at(-1) ?? "";
    const data = last.split("\n").find((l) => l.startsWith("data: "));
    const final = last.includes("event: progress") && data ? JSON.parse(data.slice(6)) : null;
    return {
      bytes,
      events,
      callEvents,
      snapshotFirst: first.includes("event: snapshot"),
      endedCompleted: final?.status === "completed",
      end: tailText.slice(-300),
    };
  })();
  return { snapshot, done };
}

/**
 * One batch of `opts.calls` answered calls, watched by `opts.subscribers` streams or by none, run to completion.
 * @param {Api} api
 * @param {string} admin
 * @param {string} agentId
 * @param {ReturnType<typeof numbers>} nums
 * @param {Side} side
 * @param {Options} opts
 * @param {number | null} pgid
 */
async function runOne(api, admin, agentId, nums, side, opts, pgid) {
  await api.call("DELETE", "/v1/admin/metrics", { admin });
  const form = { agentId, file: nums.csv(opts.calls), start: "false" };
  const upload = await api.call("POST", "/v1/api/batch-calls", { form, idempotencyKey: randomUUID(), expect: [201], timeoutMs: 5 * 60_000 });
  const id = upload.body.batchId;
  const readers = [];
  if (side === "with") {
    for (let i = 0; i < opts.subscribers; i++) readers.push(await readStream(await api.raw("GET", `/v1/api/batch-calls/${id}/events`)));
    await Promise.all(readers.map((r) => r.snapshot));
  }
  const cpuBefore = groupCpuMs(pgid);
  const readerBefore = process.cpuUsage();
  await api.call("POST", `/v1/api/batch-calls/${id}/start`, { expect: [200] });
  const final = await completion(api, id, opts);
  const streams = await Promise.all(readers.map((r) => r.done));
  const cpu = cpuPerCall(cpuBefore, groupCpuMs(pgid), opts.calls);
  const reader = process.cpuUsage(readerBefore);
  if (final.completed !== opts.calls) throw new Error(`the batch completed ${final.completed} of ${opts.calls} calls (${final.status})`);
  const bad = streams.filter((s) => !s.snapshotFirst || !s.endedCompleted).length;
  if (bad) {
    const b = streams.find((s) => !s.snapshotFirst || !s.endedCompleted);
    throw new Error(
      `${bad} of ${streams.length} streams did not open with a snapshot and end with the completed progress; one ended: ${JSON.stringify(b?.end)}`,
    );
  }
  return {
    side,
    achievedPerSec: round(opts.calls / ((Number(final.completedTime) - Number(final.startTime)) / 1000)),
    cpuMsPerCall: pgid ? cpu.total : null,
    cpuMsPerCallBy: cpu.by,
    // This script's own CPU (the 100 readers and the status polls): on the same cores as the server.
    clientCpuMsPerCall: round((reader.user + reader.system) / 1000 / opts.calls, 3),
    eventsPerSubscriber: streams.length ? median(streams.map((s) => s.events)) : null,
    callEventsPerSubscriber: streams.length ? median(streams.map((s) => s.callEvents)) : null,
    kbPerSubscriber: streams.length ? round((median(streams.map((s) => s.bytes)) ?? 0) / 1024, 1) : null,
  };
}

/**
 * Starts `wrangler dev` on fresh state, runs the pairs, stops it. Throws
 * (after stopping it) if a batch fails, a stream breaks its contract or a wait times out.
 * @param {Partial<Options>} [overrides]
 */
export async function runWatchers(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  if (opts.skip) {
    log("BENCH_SKIP_WATCHERS=1: skipping the watchers");
    return { skipped: true };
  }
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const started = Date.now();
  let pgid = /** @type {number | null} */ (null);
  const server = await startServer(
    (line) => {
      pgid ??= Number(/\(pid (\d+)\)/.exec(line)?.[1]) || null; // wrangler dev's own group (dev-runtime starts it detached)
      log(line);
    },
    opts.runtime,
    { vars: { METRICS: "on", SIM_RESULTS: opts.results ? "on" : "off" } },
  );
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const ws = await api.call("POST", "/v1/admin/workspaces", { admin, json: { name: "bench-watchers", rateLimits: LIMITS }, expect: [201] });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const nums = numbers();
    // A fresh runtime's first batch is slow: one run without subscribers first, not counted.
    const warmUp = await runOne(api, admin, agent.body.agentId, nums, "without", opts, pgid);
    log(`warm-up (not counted): ${warmUp.achievedPerSec} calls/s`);
    /** @type {Awaited<ReturnType<typeof runOne>>[]} */
    const runs = [];
    for (let pair = 0; pair < opts.pairs; pair++) {
      for (const side of pair % 2 ? WITH_WITHOUT : WITHOUT_WITH) {
        const run = await runOne(api, admin, agent.body.agentId, nums, side, opts, pgid);
        runs.push(run);
        const sent =
          run.eventsPerSubscriber === null
            ? ""
            : `; each subscriber ${run.eventsPerSubscriber} events (${run.callEventsPerSubscriber} call), ${run.kbPerSubscriber} KB`;
        log(
          `${side} subscribers: ${run.achievedPerSec} calls/s, ${run.cpuMsPerCall} CPU ms per call ${JSON.stringify(run.cpuMsPerCallBy)}, client ${run.clientCpuMsPerCall}${sent}`,
        );
      }
    }
    /**
     * @param {Side} side
     * @param {"achievedPerSec" | "cpuMsPerCall" | "clientCpuMsPerCall" | "eventsPerSubscriber" | "callEventsPerSubscriber" | "kbPerSubscriber"} key
     */
    const mid = (side, key) => median(runs.filter((r) => r.side === side).map((r) => r[key] ?? Number.NaN));
    const [withPerSec, withoutPerSec] = [mid("with", "achievedPerSec"), mid("without", "achievedPerSec")];
    return {
      subscribers: opts.subscribers,
      ratio: withPerSec !== null && withoutPerSec ? round(withPerSec / withoutPerSec, 3) : null,
      withPerSec: round(withPerSec),
      withoutPerSec: round(withoutPerSec),
      cpuMsPerCall: round(mid("with", "cpuMsPerCall"), 3),
      baselineCpuMsPerCall: round(mid("without", "cpuMsPerCall"), 3),
      clientCpuMsPerCall: round(mid("with", "clientCpuMsPerCall"), 3),
      baselineClientCpuMsPerCall: round(mid("without", "clientCpuMsPerCall"), 3),
      eventsPerSubscriber: mid("with", "eventsPerSubscriber"),
      callEventsPerSubscriber: mid("with", "callEventsPerSubscriber"),
      kbPerSubscriber: mid("with", "kbPerSubscriber"),
      warmUpPerSec: warmUp.achievedPerSec,
      calls: opts.calls,
      pairs: opts.pairs,
      runs,
      config: { rateLimits: LIMITS, simCallSeconds: 0, pollMs: opts.pollMs, results: opts.results },
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
 * @param {Awaited<ReturnType<typeof runWatchers>>} r
 */
export function formatWatchers(r) {
  const p = /** @type {Record<string, any>} */ (r);
  if (p.skipped) return "Watchers: skipped (BENCH_SKIP_WATCHERS=1)";
  return [
    `Watchers (${p.runtime}): one batch of ${show(p.calls)} answered calls, 1,000/s workspace, ${show(p.subscribers)} /events subscribers reading to the end; ${p.pairs} pair(s) alternated, medians`,
    "",
    table(
      ["measure", `with ${show(p.subscribers)} subscribers`, "without", "change"],
      [
        ["calls/s (batch start → completion)", show(p.withPerSec), show(p.withoutPerSec), `ratio ${show(p.ratio)}`],
        ["CPU ms per call (workerd + wrangler)", show(p.cpuMsPerCall), show(p.baselineCpuMsPerCall), ""],
        ["CPU ms per call (this script: readers, polls)", show(p.clientCpuMsPerCall), show(p.baselineClientCpuMsPerCall), ""],
        ["per subscriber: events (call events), KB", `${show(p.eventsPerSubscriber)} (${show(p.callEventsPerSubscriber)}), ${show(p.kbPerSubscriber)}`, "", ""],
        ["each run, in order (calls/s)", "", "", p.runs.map((/** @type {any} */ x) => `${x.side} ${show(x.achievedPerSec)}`).join(", ")],
      ],
    ),
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:watchers", () => runWatchers(), formatWatchers);
