#!/usr/bin/env node
// @ts-check
/**
 * The do-not-call check's cost at intake (issue 20), in the runtime
 * bench:scale uses (`wrangler dev --local` on fresh state, driven over HTTP).
 * `npm run bench` puts its figures under `dnc` and its ratio as
 * `dncIntakeRatio`; run directly (`node scripts/bench-dnc.mjs`) it prints a
 * table and, as its last line, the JSON.
 *
 * Two workspaces: one with an empty do-not-call list, one with
 * BENCH_DNC_LIST numbers on it (default 100,000). The same file of
 * BENCH_DNC_ROWS distinct numbers (default 200,000; every other one is on
 * the list, so half its rows are suppressed) is sent to each as a dry run —
 * the whole intake scan and check, every row counted, nothing created, so
 * runs can repeat on the same state. Three sides, in rounds (BENCH_DNC_PAIRS
 * of them, default 7), their order turned each round so a shared machine's
 * drift falls on all: `empty`; `listed`, the list unchanged since the last
 * dry run (the Worker holds a list it read whole until its version moves:
 * services/dnc-list-cache.ts); `changed`, the listed workspace again right
 * after one number not in the file was added to its list (untimed), so the
 * list is read from D1 and its set built. Each answer's `suppressed` and
 * `totalCalls` are checked (the list's half of the file; 0 for the empty list).
 *
 * - `emptyMs`, `listedMs`, `changedMs`: each side's median wall time of a dry
 *   run as the client sees it; `dncIntakeRatio` = listedMs / emptyMs (target
 *   ≤ 1.2), `changedRatio` = changedMs / emptyMs (the first upload after a
 *   change to the list, or in a fresh isolate). `pairRatio`,
 *   `changedPairRatio`: the median of each round's own ratios, a check on them.
 * - `emptyCpuMs`, `listedCpuMs`, `cpuRatio`: the CPU time (user + system,
 *   Linux's /proc, 10 ms ticks) the server's processes — workerd, with the
 *   local D1 inside it, and wrangler's proxy — spent on each dry run, medians.
 *   On a machine others share, wall time swings with their load; CPU time
 *   much less. null where /proc cannot be read.
 *
 * BENCH_SKIP_DNC=1 skips it. BENCH_SCALE_RUNTIME, BENCH_SCALE_LOG_LEVEL and
 * BENCH_SCALE_KEEP apply as in bench:scale.
 */
import { readdirSync, readFileSync } from "node:fs";
import { defaults, median, numbers, RUNTIMES, round, show, table } from "./bench-scale.mjs";
import { runIfMain } from "./lib/bench-main.mjs";
import { client, startServer, tail } from "./lib/dev-runtime.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {"empty" | "listed" | "changed"} Side */
/** @typedef {{ list: Side, ms: number | null, cpuMs: number | null, suppressed: number }} Run */

/** Numbers per POST /v1/api/dnc: the route's maximum. */
const ADD_CHUNK = 10_000;
/** @type {Side[]} */
const SIDES = ["empty", "listed", "changed"];
/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's times. */
const TICKS_PER_SECOND = 100;

function options() {
  const env = process.env;
  return {
    runtime: defaults().runtime,
    rows: Number(env.BENCH_DNC_ROWS) || 200_000,
    listSize: Number(env.BENCH_DNC_LIST) || 100_000,
    pairs: Number(env.BENCH_DNC_PAIRS) || 7,
    skip: env.BENCH_SKIP_DNC === "1",
    log: (/** @type {string} */ line) => process.stderr.write(`bench:dnc: ${line}\n`),
  };
}

/**
 * Fields 3 on of /proc/<pid>/stat (after the command's closing parenthesis), or null.
 * @param {string} pid
 */
function statOf(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null; // gone, or no /proc
  }
}

/**
 * The server's process group: the one of the process whose command line
 * names the run's state directory (dev-runtime's host), or null.
 * @param {string} dir
 */
function serverGroup(dir) {
  try {
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        continue;
      }
      if (cmd.includes(dir)) return statOf(pid)?.[2] ?? null; // field 5, pgrp
    }
  } catch {}
  return null;
}

/**
 * CPU milliseconds (user + system) spent so far by every live process of the group.
 * @param {string | null} group
 */
function groupCpuMs(group) {
  if (group === null) return null;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    const f = statOf(pid);
    if (f?.[2] === group) ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15: utime, stime
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * A workspace with the simulated agent, its key in use by the returned client.
 * @param {Api} api
 * @param {string} admin
 * @param {string} name
 */
async function workspace(api, admin, name) {
  const ws = await api.call("POST", "/v1/admin/workspaces", { admin, json: { name }, expect: [201] });
  api.useKey(ws.body.apiKey, ws.body.workspaceId);
  const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
  return { apiKey: ws.body.apiKey, workspaceId: ws.body.workspaceId, agentId: agent.body.agentId };
}

/**
 * One dry run of `csv`: its wall time, the server's CPU time, and its answer's counts.
 * @param {Api} api
 * @param {{ apiKey: string, workspaceId: string, agentId: string }} ws
 * @param {string} csv
 * @param {string | null} group the server's process group
 */
async function dryRun(api, ws, csv, group) {
  api.useKey(ws.apiKey, ws.workspaceId);
  const cpuBefore = groupCpuMs(group);
  const started = performance.now();
  const res = await api.call("POST", "/v1/api/batch-calls", {
    form: { agentId: ws.agentId, dryRun: "true", file: csv },
    retry: true, // a dry run creates nothing: safe to send again after a lost connection
    expect: [200],
    timeoutMs: 5 * 60_000,
  });
  const ms = round(performance.now() - started, 1);
  const cpuAfter = groupCpuMs(group);
  const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  return { ms, cpuMs, suppressed: res.body.suppressed, totalCalls: res.body.totalCalls };
}

/**
 * The median of each round's `side` / empty, over `key`.
 * @param {Run[]} runs in rounds of SIDES.length, as run
 * @param {Side} side
 * @param {"ms" | "cpuMs"} key
 */
function roundRatio(runs, side, key) {
  const ratios = [];
  for (let i = 0; i + SIDES.length <= runs.length; i += SIDES.length) {
    const round_ = runs.slice(i, i + SIDES.length);
    const value = round_.find((r) => r.list === side)?.[key];
    const empty = round_.find((r) => r.list === "empty")?.[key];
    if (value && empty) ratios.push(value / empty);
  }
  return round(median(ratios), 3);
}

/**
 * Starts `wrangler dev` on fresh state, fills one workspace's list, runs the
 * pairs, stops it. Throws (after stopping it) if an answer's counts are wrong.
 * @param {Partial<ReturnType<typeof options>>} [overrides]
 */
export async function runDnc(overrides = {}) {
  const opts = { ...options(), ...overrides };
  const { log } = opts;
  if (opts.skip) {
    log("BENCH_SKIP_DNC=1: skipping the do-not-call intake check");
    return { skipped: true };
  }
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  if (opts.listSize * 2 > opts.rows) throw new Error(`BENCH_DNC_LIST (${opts.listSize}) must be at most half of BENCH_DNC_ROWS (${opts.rows})`);
  const started = Date.now();
  const server = await startServer(log, opts.runtime, { vars: { SIM_RESULTS: "off" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const group = serverGroup(server.dir);
    if (group === null) log("the server's processes were not found in /proc: CPU times are left out");
    const nums = numbers();
    const csv = nums.csv(opts.rows);
    // Numbers the file does not hold: one added before each `changed` run.
    const spare = nums.csv(opts.pairs).trimEnd().split("\n").slice(1);
    // Every other row of the file goes on the list (the header is line 0).
    const listed = csv
      .trimEnd()
      .split("\n")
      .filter((_, line) => line > 0 && line % 2 === 1)
      .slice(0, opts.listSize);
    const empty = await workspace(api, admin, "bench-dnc-empty");
    const full = await workspace(api, admin, "bench-dnc-listed");
    const filledAt = Date.now();
    for (let i = 0; i < listed.length; i += ADD_CHUNK) {
      await api.call("POST", "/v1/api/dnc", { json: { phoneNumbers: listed.slice(i, i + ADD_CHUNK) }, expect: [201], retry: true });
    }
    log(`${show(listed.length)} numbers on the list in ${show(Date.now() - filledAt)} ms; ${opts.pairs} pair(s) of dry runs of ${show(opts.rows)} rows`);
    // One untimed dry run each: the first request of an isolate compiles and warms what the rest reuse.
    await dryRun(api, empty, csv, group);
    await dryRun(api, full, csv, group);
    /** @type {Run[]} */
    const runs = [];
    for (let r = 0; r < opts.pairs; r++) {
      for (const side of [...SIDES.slice(r % SIDES.length), ...SIDES.slice(0, r % SIDES.length)]) {
        if (side === "changed") {
          api.useKey(full.apiKey, full.workspaceId);
          await api.call("POST", "/v1/api/dnc", { json: { phoneNumbers: [spare[r]] }, expect: [201], retry: true });
        }
        const run = await dryRun(api, side === "empty" ? empty : full, csv, group);
        const want = side === "empty" ? 0 : listed.length;
        if (run.suppressed !== want) throw new Error(`the ${side} list's dry run suppressed ${run.suppressed} rows, not ${want}`);
        if (run.totalCalls !== opts.rows - want) throw new Error(`the ${side} list's dry run left ${run.totalCalls} calls, not ${opts.rows - want}`);
        runs.push({ list: side, ms: run.ms, cpuMs: run.cpuMs, suppressed: run.suppressed });
        log(`${side} list: ${run.ms} ms, server CPU ${run.cpuMs ?? "n/a"} ms (${run.suppressed} suppressed)`);
      }
    }
    /**
     * @param {Side} side
     * @param {"ms" | "cpuMs"} key
     */
    const mid = (side, key) => {
      const values = runs.filter((r) => r.list === side).map((r) => r[key]);
      return values.every((v) => v !== null) ? median(/** @type {number[]} */ (values)) : null;
    };
    const [emptyMs, listedMs, changedMs] = [mid("empty", "ms"), mid("listed", "ms"), mid("changed", "ms")];
    const [emptyCpuMs, listedCpuMs, changedCpuMs] = [mid("empty", "cpuMs"), mid("listed", "cpuMs"), mid("changed", "cpuMs")];
    /** @param {number | null} a @param {number | null} b */
    const ratio = (a, b) => (b && a !== null ? round(a / b, 3) : null);
    return {
      dncIntakeRatio: ratio(listedMs, emptyMs),
      changedRatio: ratio(changedMs, emptyMs),
      pairRatio: roundRatio(runs, "listed", "ms"),
      changedPairRatio: roundRatio(runs, "changed", "ms"),
      emptyMs: round(emptyMs, 1),
      listedMs: round(listedMs, 1),
      changedMs: round(changedMs, 1),
      cpuRatio: ratio(listedCpuMs, emptyCpuMs),
      changedCpuRatio: ratio(changedCpuMs, emptyCpuMs),
      emptyCpuMs,
      listedCpuMs,
      changedCpuMs,
      rows: opts.rows,
      listSize: listed.length,
      suppressed: listed.length,
      pairs: opts.pairs,
      runs,
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
 * @param {Awaited<ReturnType<typeof runDnc>>} r
 */
export function formatDnc(r) {
  const d = /** @type {Record<string, any>} */ (r);
  if (d.skipped) return "Do-not-call at intake: skipped (BENCH_SKIP_DNC=1)";
  return [
    `Do-not-call at intake (${d.runtime}): dry runs of ${show(d.rows)} distinct numbers, ${show(d.listSize)} of them on the list; ${d.pairs} round(s) of three, their order turned, medians`,
    "",
    table(
      ["measure", "listed", "just changed", "empty list", "ratio (target ≤ 1.2)", "just changed ÷ empty"],
      [
        ["dry run ms (client wall time)", show(d.listedMs), show(d.changedMs), show(d.emptyMs), show(d.dncIntakeRatio), show(d.changedRatio)],
        ["  median of each round's ratio", "", "", "", show(d.pairRatio), show(d.changedPairRatio)],
        ["server CPU ms (workerd + proxy)", show(d.listedCpuMs), show(d.changedCpuMs), show(d.emptyCpuMs), show(d.cpuRatio), show(d.changedCpuRatio)],
        ["rows suppressed", show(d.suppressed), show(d.suppressed), "0", "", ""],
      ],
    ),
    "",
    `each run, in order (wall ms / CPU ms): ${d.runs.map((/** @type {Run} */ x) => `${x.list} ${show(x.ms)}/${show(x.cpuMs)}`).join(", ")}`,
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:dnc", () => runDnc(), formatDnc);
