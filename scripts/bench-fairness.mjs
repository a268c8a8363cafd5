#!/usr/bin/env node
// @ts-check
/**
 * npm run bench:fairness — several tenants at once (issue 20), in the
 * runtime `npm run bench:scale` uses (wrangler dev --local, inspector off,
 * fresh state), driven over HTTP with each workspace's own key:
 *
 * 1. `workspaces`: n = 1, 2, 4, 8 workspaces, each with its own 1,000 calls/s
 *    / 1,000 concurrent limit, each uploading one batch of
 *    BENCH_SCALE_CALLS (default 3,000) answered 0-second calls at once:
 *    completions/s over the run (first 201 → last completion, the server's
 *    times), and what bounds it — the cores' busy share and the dev server's
 *    own CPU (workerd, wrangler's Node) over the run, from /proc. The
 *    engine's ceiling, on a server of its own as deployed: METRICS off (the
 *    bench's counters cost the one local thread ~10%) and the simulated
 *    agent's results off (each is an HTTP request through the local proxy,
 *    ~4 ms of that thread); BENCH_WORKSPACES_RESULTS=1 turns results on.
 * 2. `fairness`: 8 workspaces each running such a batch; once all 8 are
 *    dialling, a 9th workspace uploads one: its first dial (the batch's
 *    startTime, set when its first call is claimed for dialling) after its
 *    201, and queue messages per call over the whole run (every queue
 *    message sent, call-jobs and webhook-events, over the calls dialled).
 *    One latecomer is one sample of a noisy figure: BENCH_FAIRNESS_LATECOMERS
 *    (default 5) more workspaces arrive one after another, each once the one
 *    before has dialled, and `latecomerFirstDialMs` is their median
 *    (`latecomerFirstDialsMs` lists each).
 *
 * `runFairness(opts)` returns `{ workspaces, fairness }` for `npm run bench`
 * (top-level keys of its JSON); run directly, this prints a table and, as
 * its last line, that JSON. BENCH_FAIRNESS_WORKSPACES ("1,2,4,8") picks the
 * runs of 1; BENCH_SKIP_FAIRNESS=1 skips 2; BENCH_FAIRNESS_RESULTS=0 turns the simulated agent's
 * results off (each costs the local thread ~4 ms). BENCH_SCALE_CALLS,
 * BENCH_SCALE_RUNTIME, BENCH_SCALE_TIMEOUT_MS and BENCH_SCALE_KEEP apply as
 * for bench:scale. The fairness run's per-call counts need METRICS=on (set there).
 */
import { randomUUID } from "node:crypto";
import { runIfMain } from "./lib/bench-main.mjs";
import { cpuWatch } from "./lib/cpu-sample.mjs";
import { client, sleep, startServer, tail } from "./lib/dev-runtime.mjs";
import { defaults, median, numbers, perCall, round, RUNTIMES, show, table } from "./bench-scale.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof numbers>} Numbers */
/** @typedef {Awaited<ReturnType<typeof startServer>>} Server */
/** @typedef {{ api: Api, agentId: string, workspaceId: string }} Tenant */
/** @typedef {ReturnType<typeof options>} Options */

export const LIMITS = { callsPerSecond: 1000, maxConcurrentCalls: 1000 };

export function options() {
  const env = process.env;
  const base = defaults();
  return {
    ...base,
    workspaceCounts: (env.BENCH_FAIRNESS_WORKSPACES || "1,2,4,8")
      .split(",")
      .map(Number)
      .filter((n) => n > 0),
    skipFairness: env.BENCH_SKIP_FAIRNESS === "1",
    // BENCH_FAIRNESS_RESULTS=0: the simulated agent reports no results (a report costs the local thread ~4 ms).
    results: env.BENCH_FAIRNESS_RESULTS !== "0",
    // BENCH_WORKSPACES_RESULTS=1: the workspaces runs with the simulated agent's results on.
    workspaceResults: env.BENCH_WORKSPACES_RESULTS === "1",
    fairnessWorkspaces: 8,
    latecomers: Math.max(1, Number(env.BENCH_FAIRNESS_LATECOMERS) || 5),
    log: (/** @type {string} */ line) => process.stderr.write(`bench:fairness: ${line}\n`),
  };
}

/**
 * `n` workspaces under the same limits, each with its own client (its key) and a simulated agent.
 * @param {Server} server
 * @param {number} n
 * @param {(line: string) => void} log
 * @param {string} prefix
 * @returns {Promise<Tenant[]>}
 */
export async function tenants(server, n, log, prefix = "bench") {
  const admin = client(server.baseUrl, server.isUp, server.logPath, log);
  /** @type {Tenant[]} */
  const out = [];
  for (let i = 0; i < n; i++) {
    const ws = await admin.call("POST", "/v1/admin/workspaces", {
      admin: server.adminToken,
      json: { name: `${prefix}-${i + 1}`, rateLimits: LIMITS },
      expect: [201],
    });
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    out.push({ api, agentId: agent.body.agentId, workspaceId: ws.body.workspaceId });
  }
  return out;
}

/**
 * One batch of `calls` uploaded by the tenant; its 201's arrival time.
 * @param {Tenant} t
 * @param {Numbers} nums
 * @param {number} calls
 */
async function upload(t, nums, calls) {
  const file = nums.csv(calls);
  const u = await t.api.call("POST", "/v1/api/batch-calls", {
    form: { agentId: t.agentId, file },
    idempotencyKey: randomUUID(),
    expect: [201],
    timeoutMs: 5 * 60_000,
  });
  if (u.body.totalCalls !== calls) throw new Error(`upload accepted ${u.body.totalCalls} calls, not ${calls}`);
  return { tenant: t, batchId: /** @type {string} */ (u.body.batchId), at: u.at };
}

/**
 * Polls each unfinished batch in turn, one status request every `everyMs`, until all have completed.
 * @param {{ tenant: Tenant, batchId: string }[]} batches
 * @param {number} timeoutMs
 * @param {number} everyMs
 */
async function untilCompleted(batches, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  /** @type {Map<string, any>} */
  const finals = new Map();
  let polls = 0;
  for (let turn = 0; finals.size < batches.length; turn++) {
    const pending = batches.filter((b) => !finals.has(b.batchId));
    const b = /** @type {{ tenant: Tenant, batchId: string }} */ (pending[turn % pending.length]);
    const { body } = await b.tenant.api.call("GET", `/v1/api/batch-calls/${b.batchId}/status`);
    polls++;
    if (body.status === "completed") {
      finals.set(b.batchId, body);
      continue;
    }
    if (body.isComplete) throw new Error(`batch ${b.batchId} ended as ${body.status}`);
    if (Date.now() > deadline) throw new Error(`batch ${b.batchId} not completed after ${timeoutMs} ms: ${body.completed}/${body.total}`);
    await sleep(everyMs);
  }
  return { finals: batches.map((b) => finals.get(b.batchId)), polls };
}

/**
 * Every tenant uploads one batch of `calls` at once; the run until all have completed, with the
 * counters per call (status polls taken off) and the CPU over it.
 * @param {Server} server
 * @param {Tenant[]} group
 * @param {Numbers} nums
 * @param {{ callsPerBatch: number, runTimeoutMs: number, metered?: boolean }} opts `metered: false`: a server with METRICS off (no counters)
 * @param {ReturnType<typeof cpuWatch>} cpu
 * @param {Record<string, number> | null} pollCost
 * @param {(batches: { tenant: Tenant, batchId: string, at: number }[]) => Promise<unknown>} [during] runs once the uploads are in
 */
export async function concurrentRun(server, group, nums, opts, cpu, pollCost, during) {
  const admin = client(server.baseUrl, server.isUp, server.logPath, () => {});
  const metered = opts.metered !== false;
  if (metered) await admin.call("DELETE", "/v1/admin/metrics", { admin: server.adminToken });
  const batches = await Promise.all(group.map((t) => upload(t, nums, opts.callsPerBatch)));
  const extra = during ? await during(batches) : undefined;
  const late = /** @type {{ batches?: typeof batches } | undefined} */ (extra)?.batches ?? [];
  const all = [...batches, ...late];
  const { finals, polls } = await untilCompleted(all, opts.runTimeoutMs);
  /** @type {Record<string, number>} */
  let counters = {};
  if (metered) {
    const { body: metrics } = await admin.call("GET", "/v1/admin/metrics", { admin: server.adminToken });
    if (!metrics.enabled) throw new Error("metrics are off: METRICS=on did not reach the Worker");
    counters = metrics.counters;
  }
  const calls = finals.reduce((n, f) => n + f.total, 0);
  for (const f of finals) if (f.completed !== f.total) throw new Error(`a batch completed ${f.completed} of ${f.total} calls`);
  const dials = typeof counters["engine.dials"] === "number" ? counters["engine.dials"] : calls;
  const firstReceipt = Math.min(...batches.map((b) => b.at));
  const lastCompleted = Math.max(...finals.map((f) => Number(f.completedTime)));
  const usage = cpu.between(firstReceipt, lastCompleted);
  /** @type {Partial<ReturnType<typeof perCall>>} */
  const per = metered ? perCall(counters, dials, polls, pollCost) : {};
  return {
    batches: all,
    finals,
    extra,
    run: {
      workspaces: group.length,
      calls,
      completedPerSec: round(calls / ((lastCompleted - firstReceipt) / 1000)),
      perBatchCompletedPerSec: batches.map((b, i) => round(opts.callsPerBatch / ((Number(finals[i].completedTime) - b.at) / 1000))),
      firstDialAfter201Ms: batches.map((b, i) => Number(finals[i].startTime) - b.at),
      wallMs: lastCompleted - firstReceipt,
      dials,
      statusPolls: polls,
      cpu: usage,
      ...per,
    },
    counters,
  };
}

/**
 * What bounds a run, in words, from its CPU figures. Locally the Worker, its objects and the queue
 * broker run on workerd's one thread: at ~0.9 of a core it is that thread; cores busy while the
 * server had less than three quarters of them means other work on the machine took them (the
 * figure is then a floor); otherwise the CPU had room and the local broker's deliveries set the pace.
 * @param {{ machineBusy: number | null, serverCores: number | null, serverByProcess: Record<string, number>, cores?: number }} cpu
 */
export function boundOf(cpu) {
  if (cpu.machineBusy === null || cpu.serverCores === null) return "unknown (no /proc)";
  const top = Object.entries(cpu.serverByProcess)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const busy = `cores ${Math.round(cpu.machineBusy * 100)}% busy; the server used ${cpu.serverCores} cores (${top})`;
  if ((cpu.serverByProcess.workerd ?? 0) >= 0.9) return `workerd's thread (the Worker, its objects and the queue broker share it): ${busy}`;
  if (cpu.machineBusy >= 0.9) {
    const cores = cpu.cores ?? 2;
    return cpu.serverCores >= 0.75 * cores ? `both cores, by the server: ${busy}` : `other work on the machine (a floor, not the ceiling): ${busy}`;
  }
  return `not the CPU (the local queue broker's deliveries): ${busy}`;
}

/**
 * `body` on a fresh server (`serverOpts`: its Worker vars, a variant config), its CPU watched; on a
 * failure, the end of the server's log; the server stopped either way.
 * @template T
 * @param {{ log: (line: string) => void, runtime: string }} opts
 * @param {import("./lib/dev-runtime.mjs").ServerOptions} serverOpts
 * @param {(server: Server, cpu: ReturnType<typeof cpuWatch>) => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function onServer(opts, serverOpts, body) {
  const server = await startServer(opts.log, opts.runtime, serverOpts);
  const cpu = cpuWatch(server.dir);
  try {
    return await body(server, cpu);
  } catch (err) {
    opts.log(`failed; the end of wrangler dev's log:\n${tail(server.logPath, 60)}`);
    throw err;
  } finally {
    cpu.stop();
    await server.stop();
  }
}

/**
 * Run 1 on a fresh server of its own, METRICS off: each count of workspaces in turn.
 * @param {Options} opts
 */
function workspacesRuns(opts) {
  const { log } = opts;
  return onServer(opts, { vars: opts.workspaceResults ? {} : { SIM_RESULTS: "off" } }, async (server, cpu) => {
    const everyone = await tenants(server, Math.max(...opts.workspaceCounts), log);
    const nums = numbers();
    const workspaces = [];
    for (const n of opts.workspaceCounts) {
      log(`${n} workspace(s), one ${opts.callsPerBatch}-call batch each, at once…`);
      const r = await concurrentRun(server, everyone.slice(0, n), nums, { ...opts, metered: false }, cpu, null);
      const bound = boundOf(r.run.cpu);
      log(`${n} workspace(s): ${r.run.completedPerSec} calls/s; ${bound}`);
      const { completedPerSec, ...rest } = r.run;
      workspaces.push({ n, completedPerSec, bound, ...rest });
    }
    return workspaces;
  });
}

/**
 * Runs 1 and 2, each on a fresh server; returns `{ workspaces, fairness }`.
 * @param {Partial<Options>} [overrides]
 */
export async function runFairness(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const started = Date.now();
  const workspaces = await workspacesRuns(opts);
  /**
   * @template F
   * @param {F} fairness
   */
  const result = (fairness) => ({
    workspaces,
    fairness,
    config: { callsPerBatch: opts.callsPerBatch, rateLimits: LIMITS, simCallSeconds: 0, results: opts.results, workspaceResults: opts.workspaceResults },
    runtime: RUNTIMES[opts.runtime],
    tookMs: Date.now() - started,
  });
  if (opts.skipFairness) return result(null);
  return onServer(opts, { vars: { METRICS: "on", ...(opts.results ? {} : { SIM_RESULTS: "off" }) } }, async (server, cpu) => {
    const everyone = await tenants(server, opts.fairnessWorkspaces + opts.latecomers, log);
    const nums = numbers();
    // Status polls are not taken off the fairness run's counts: they send no queue message.
    const pollCost = null;

    const k = opts.fairnessWorkspaces;
    log(`fairness: ${k} workspaces each start a ${opts.callsPerBatch}-call batch; a ${k + 1}th uploads once they dial…`);
    const lateTenants = everyone.slice(k, k + opts.latecomers);
    const r = await concurrentRun(server, everyone.slice(0, k), nums, opts, cpu, pollCost, async (batches) => {
      // Until every batch has dialled (its startTime is set), polling them in turn.
      /** @type {Set<string>} */
      const dialling = new Set();
      for (let i = 0; dialling.size < batches.length; i++) {
        const b = /** @type {(typeof batches)[number]} */ (batches[i % batches.length]);
        if (dialling.has(b.batchId)) continue;
        const { body } = await b.tenant.api.call("GET", `/v1/api/batch-calls/${b.batchId}/status`);
        if (body.startTime !== null) dialling.add(b.batchId);
        else await sleep(25);
      }
      const progress = await Promise.all(batches.map((b) => b.tenant.api.call("GET", `/v1/api/batch-calls/${b.batchId}/status`)));
      const completedBefore = progress.reduce((n, p) => n + p.body.completed, 0);
      const lateBatches = [];
      /** @type {number[]} */
      const firstDials = [];
      // One latecomer after another, each once the one before has dialled.
      for (const late of lateTenants) {
        const lateBatch = await upload(late, nums, opts.callsPerBatch);
        lateBatches.push(lateBatch);
        let startTime = null;
        while (startTime === null) {
          const { body } = await late.api.call("GET", `/v1/api/batch-calls/${lateBatch.batchId}/status`);
          startTime = body.startTime;
          if (startTime === null) {
            if (body.isComplete || Date.now() - lateBatch.at > opts.runTimeoutMs) throw new Error(`a late batch never dialled: ${body.status}`);
            await sleep(20);
          }
        }
        firstDials.push(Number(startTime) - lateBatch.at);
      }
      return { batches: lateBatches, firstDials, completedBefore };
    });
    const extra = /** @type {{ firstDials: number[], completedBefore: number }} */ (r.extra);
    const fairness = {
      workspaces: k,
      latecomerFirstDialMs: median(extra.firstDials),
      latecomerFirstDialsMs: extra.firstDials,
      queueMessagesPerCall: r.run.queueMessagesPerCall ?? null,
      callJobsPerCall: r.run.callJobsPerCall ?? null,
      callJobsRedelivered: r.counters["queue.call-jobs.redelivered"] ?? null,
      othersCompletedWhenLateUploaded: extra.completedBefore,
      othersFirstDialAfter201Ms: r.run.firstDialAfter201Ms,
      calls: r.run.calls,
      completedPerSec: r.run.completedPerSec,
      cpu: r.run.cpu,
    };
    log(
      `fairness: latecomers' first dials ${extra.firstDials.join(" / ")} ms after their 201s (median ${fairness.latecomerFirstDialMs}); ${fairness.queueMessagesPerCall} queue messages per call`,
    );
    return result(fairness);
  });
}

/**
 * @param {Awaited<ReturnType<typeof runFairness>>} r
 */
export function formatFairness(r) {
  const lines = [
    `Workspaces at once (${r.runtime}; METRICS off, the simulated agent's results ${r.config.workspaceResults ? "on" : "off"}): one ${show(r.config.callsPerBatch)}-call batch each, each workspace ${r.config.rateLimits.callsPerSecond}/s; took ${show(Math.round(r.tookMs / 1000))} s`,
    "",
    table(
      ["workspaces", "calls", "completed/s", "201→first dial ms (max)", "cores busy", "server cores", "bound"],
      r.workspaces.map((w) => [
        String(w.n),
        show(w.calls),
        show(w.completedPerSec),
        show(Math.max(...w.firstDialAfter201Ms)),
        w.cpu.machineBusy === null ? "n/a" : `${Math.round(w.cpu.machineBusy * 100)}%`,
        show(w.cpu.serverCores),
        w.bound.split(":")[0] ?? "",
      ]),
    ),
  ];
  if (r.fairness) {
    const f = r.fairness;
    lines.push(
      "",
      table(
        ["fairness", "value"],
        [
          [
            `latecomers (workspace ${f.workspaces + 1} on, one after another): first dial after the 201, median`,
            `${show(f.latecomerFirstDialMs)} ms (each: ${f.latecomerFirstDialsMs.map((/** @type {number} */ n) => show(n)).join(" / ")}; ${show(f.othersCompletedWhenLateUploaded)} of the others' calls done when the first uploaded)`,
          ],
          [
            "queue messages per call (all queues)",
            `${show(f.queueMessagesPerCall)} (call-jobs ${show(f.callJobsPerCall)}, redelivered ${show(f.callJobsRedelivered)})`,
          ],
          [`the ${f.workspaces}'s 201→first dial`, `${f.othersFirstDialAfter201Ms.map((n) => show(n)).join(" / ")} ms`],
          ["run", `${show(f.calls)} calls at ${show(f.completedPerSec)}/s`],
        ],
      ),
    );
  }
  return lines.join("\n");
}

await runIfMain(import.meta.url, "bench:fairness", () => runFairness(), formatFairness);
