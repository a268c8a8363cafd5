#!/usr/bin/env node
// @ts-check
/**
 * npm run bench: runs bench/*.bench.ts inside workerd (vitest pool), picks up
 * its BENCH_RESULT line, prints a table and, as the very last line, one JSON
 * object. Every section the bench reports with a medianMs (ingest,
 * parseOnly, …, and any added later such as dispatch) gets a table row and
 * goes into the JSON unchanged.
 *
 * BENCH_RUNS sets the timed runs per phase (default 5, after one warm-up); BENCH_TIMEOUT_MS stops a
 * run that hangs (default 30 minutes).
 *
 * Then the hostile-intake section (scripts/bench-hostile.mjs): a 20 MiB file of `1` rows refused
 * (400) through the upload path of `wrangler dev --local`, next to the valid 20 MiB file accepted
 * there; its figures go under `hostileIntake` (`ms`, `ratioToValid`, …). BENCH_HOSTILE_RUNS sets
 * its timed runs (default 3).
 *
 * Then the scale section (scripts/bench-scale.mjs): the engine under `wrangler dev --local`
 * over HTTP, outside the vitest pool, which distorts Durable-Object-heavy runs. Its figures go
 * under `scale` in the JSON; BENCH_SCALE_* and BENCH_SKIP_200K tune it as for `npm run bench:scale`.
 *
 * Last, the caller-ID pool and the contact policy's cost (scripts/bench-pool.mjs, issue 18), on a
 * wrangler dev of their own: `pool` (100 numbers at 1 call/s each: achievedPerSec, the worst starts
 * of one number in any second, violations) and `contactPolicy` (completions/s and object requests
 * per call with a policy against without, alternated runs in this invocation). BENCH_SKIP_POOL=1,
 * BENCH_SKIP_POLICY=1, BENCH_POOL_CALLS and BENCH_POLICY_PAIRS tune it.
 *
 * Then the pre-dial check (scripts/bench-predial.mjs, issue 19), on a wrangler dev of its own with a
 * local receiver answering {"dial": true} at once: `predial` (achievedPerSec with the check,
 * baselinePerSec without, addedMsPerDial: the check's median time before a dial). BENCH_SKIP_PREDIAL=1,
 * BENCH_PREDIAL_CALLS and BENCH_PREDIAL_PAIRS tune it.
 *
 * Then the stop rules and the budget (scripts/bench-safety.mjs, issue 19): the one-batch run with
 * both on against it without, alternated: `safety` (achievedPerSec, baselinePerSec, ratio; object
 * requests and D1 statements per call on each side). BENCH_SKIP_SAFETY=1, BENCH_SAFETY_CALLS and
 * BENCH_SAFETY_PAIRS tune it.
 *
 * Then the do-not-call check at intake (scripts/bench-dnc.mjs, issue 20): dry runs of a 200,000-row
 * file against an empty list and a 100,000-number one, held and just changed: `dnc` and the top-level `dncIntakeRatio`.
 * BENCH_SKIP_DNC=1 skips it.
 *
 * Then the live watchers (scripts/bench-watchers.mjs, issue 20): one batch with 100 /events
 * subscribers reading to the end against none, alternated: `watchers` (subscribers, ratio, CPU per
 * call on each side). BENCH_SKIP_WATCHERS=1, BENCH_WATCHERS_CALLS, BENCH_WATCHERS_PAIRS and
 * BENCH_WATCHERS_SUBSCRIBERS (0: both sides alike, the machine's noise) tune it.
 *
 * Then several tenants at once (scripts/bench-fairness.mjs, issue 20), on a wrangler dev of its own:
 * `workspaces` (1, 2, 4, 8 workspaces each running one batch at once: completedPerSec and what
 * bounded it) and `fairness` (8 such workspaces and a 9th arriving once they dial:
 * latecomerFirstDialMs, queueMessagesPerCall). BENCH_FAIRNESS_WORKSPACES ("0" for none) and
 * BENCH_SKIP_FAIRNESS=1 tune it. `cost` (rows, queue messages, Worker requests per call and
 * usdPer1000Calls at the published prices, scripts/lib/prices.mjs) comes from the scale section's
 * one-batch run.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { formatDnc, runDnc } from "./bench-dnc.mjs";
import { formatFairness, runFairness } from "./bench-fairness.mjs";
import { formatHostile, runHostile } from "./bench-hostile.mjs";
import { measureMemory } from "./bench-memory.mjs";
import { formatPool, runPool } from "./bench-pool.mjs";
import { formatPreDial, runPreDial } from "./bench-predial.mjs";
import { formatSafety, runSafety } from "./bench-safety.mjs";
import { formatScale, runScale } from "./bench-scale.mjs";
import { formatWatchers, runWatchers } from "./bench-watchers.mjs";

const MARKER = "BENCH_RESULT ";
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS) || 30 * 60 * 1000;
// Sections that lead the JSON and the table; the rest follow in the bench's order.
const LEADING = ["ingest", "parseOnly"];

/** @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, timedOut: boolean, output: string }>} */
function runVitest() {
  return new Promise((resolve) => {
    // Its own process group, so a timeout can stop npx, vitest and workerd together.
    const child = spawn("npx", ["vitest", "run", "--config", "vitest.bench.config.ts"], {
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
      } catch {}
    }, TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes this strips.
      resolve({ code, signal, timedOut, output: output.replace(/\x1b\[[0-9;]*m/g, "") });
    });
  });
}

/**
 * @param {string} message
 * @param {string} [output] the run's output, whose last lines are shown
 * @returns {never}
 */
function fail(message, output) {
  if (output) process.stderr.write(`${output.split("\n").slice(-80).join("\n")}\n`);
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

/**
 * @param {number} n
 * @param {number} [digits]
 */
const fmt = (n, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * @param {string[]} headers
 * @param {string[][]} rows
 */
function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  /** @param {string[]} cells */
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

process.stderr.write("bench: running bench/*.bench.ts in workerd…\n");
const started = Date.now();
const run = await runVitest();
if (run.timedOut) fail(`timed out after ${TIMEOUT_MS} ms`, run.output);
const found = run.output.match(/^BENCH_RESULT (.*)$/m);
if (run.code !== 0) fail(`vitest exited with ${run.code ?? run.signal}`, run.output);
if (!found) fail(`no ${MARKER.trim()} line in the vitest output`, run.output);

const raw = JSON.parse(found[1] ?? "");
const { input = {}, ...sections } = raw;
const timed = Object.keys(sections).filter((k) => typeof sections[k]?.medianMs === "number");
const order = [...LEADING.filter((k) => timed.includes(k)), ...timed.filter((k) => !LEADING.includes(k))];

const cpus = os.cpus();
const machine = {
  cpu: cpus[0]?.model ?? "unknown",
  cores: cpus.length,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
};

const parseMs = sections.parseOnly?.medianMs;
const rows = input.rows ?? sections.ingest?.rows;
/** @type {Record<string, number>} */
const ratio = {};
for (const k of order) if (k !== "parseOnly" && parseMs) ratio[`${k}/parseOnly`] = Math.round((sections[k].medianMs / parseMs) * 100) / 100;

console.log("");
console.log(
  `Batch intake benchmark: ${fmt(rows)} rows, ${fmt(input.bytes)} bytes (${(input.bytes / 2 ** 20).toFixed(2)} MiB), median of ${input.runs} timed runs per phase after 1 warm-up`,
);
console.log(
  `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node} (${machine.platform}); bench took ${fmt((Date.now() - started) / 1000, 1)} s`,
);
console.log("");
console.log(
  table(
    ["phase", "median ms", "rows/s", "× parseOnly", "min ms", "warm-up ms", "runs ms"],
    order.map((k) => {
      const s = sections[k];
      return [
        k,
        fmt(s.medianMs, 1),
        rows ? fmt(rows / (s.medianMs / 1000)) : "-",
        parseMs ? `${(s.medianMs / parseMs).toFixed(2)}×` : "-",
        typeof s.minMs === "number" ? fmt(s.minMs) : "-",
        typeof s.warmupMs === "number" ? fmt(s.warmupMs) : "-",
        (s.runsMs ?? []).map((/** @type {number} */ ms) => fmt(ms)).join(" / "),
      ];
    }),
  ),
);
console.log("");

if (sections.dispatch) {
  const d = sections.dispatch;
  console.log(
    `Dispatch: ${d.calls} calls in ${d.batches} batches at once, workspace limit ${d.callsPerSecondLimit} calls/s and ${d.maxConcurrentLimit} concurrent, simulated calls of 0 s`,
  );
  console.log("");
  console.log(
    table(
      ["measure", "value"],
      [
        ["achieved starts/s", `${d.achievedStartsPerSec} (limit ${d.callsPerSecondLimit})`],
        ["worst starts in any 1 s window", String(d.worstStartsInOneSecond)],
        ["max concurrent calls observed", `${d.maxConcurrentObserved} (leases held: ${d.maxLeasesObserved}, limit ${d.maxConcurrentLimit})`],
        ["limit violations", String(d.limitViolations)],
        ["201 → first dial", `${fmt(d.firstDialAfter201Ms)} ms`],
        ["per-batch starts/s", d.perBatchStartsPerSec.join(" / ")],
      ],
    ),
  );
  console.log("");
}

// The scan again, in Node under a capped heap: workerd locally has no isolate limit to hit.
process.stderr.write("bench: measuring the scan under a capped heap…\n");
sections.memory = await measureMemory().catch((err) => fail(err.message));
const m = sections.memory;
console.log(
  `Memory: the 20 MiB scan completes with V8's heap capped at ${m.heapCapMiB} MiB (sampled peak ${m.peakHeapMiB} MiB incl. uncollected garbage; largest slice ${m.largestSliceMiB} MiB)`,
);
console.log("");

// A cheap file built to cost the most work per byte, against the valid one, each through the upload path.
process.stderr.write("bench: timing a hostile upload against the valid one under wrangler dev --local…\n");
sections.hostileIntake = await runHostile().catch((err) => fail(err.message));
console.log(formatHostile(sections.hostileIntake));
console.log("");

// Last, and alone: it starts its own wrangler dev, and the vitest run above has ended.
process.stderr.write("bench: running the scale section against wrangler dev --local…\n");
sections.scale = await runScale().catch((err) => fail(err.message));
console.log(formatScale(sections.scale));
console.log("");

// The pool and the contact policy, on a wrangler dev of their own once the scale's has stopped.
process.stderr.write("bench: measuring the caller-ID pool and the contact policy against wrangler dev --local…\n");
const poolRun = await runPool().catch((err) => fail(err.message));
sections.pool = poolRun.pool;
sections.contactPolicy = poolRun.contactPolicy;
console.log(formatPool(poolRun));
console.log("");

// The pre-dial check's cost, on a wrangler dev of its own once the pool's has stopped.
process.stderr.write("bench: measuring the pre-dial check against wrangler dev --local…\n");
sections.predial = await runPreDial().catch((err) => fail(err.message));
console.log(formatPreDial(sections.predial));
console.log("");

// The stop rules and the budget: the one-batch run with both on against it without, on a wrangler dev of its own.
process.stderr.write("bench: measuring the stop rules and the budget against wrangler dev --local…\n");
sections.safety = await runSafety().catch((err) => fail(err.message));
console.log(formatSafety(sections.safety));
console.log("");

// The do-not-call check at intake: the same file against an empty list and a 100,000-number one, alternated.
process.stderr.write("bench: measuring the do-not-call check at intake against wrangler dev --local…\n");
sections.dnc = await runDnc().catch((err) => fail(err.message));
console.log(formatDnc(sections.dnc));
console.log("");

// 100 /events subscribers against none, on a wrangler dev of its own.
process.stderr.write("bench: measuring 100 /events watchers against wrangler dev --local…\n");
sections.watchers = await runWatchers().catch((err) => fail(err.message));
console.log(formatWatchers(sections.watchers));
console.log("");

// Several workspaces at once and a latecomer's wait, on a wrangler dev of its own.
process.stderr.write("bench: measuring several workspaces at once and a latecomer's first dial against wrangler dev --local…\n");
const tenancy = await runFairness().catch((err) => fail(err.message));
console.log(formatFairness(tenancy));
console.log("");

/** @type {Record<string, unknown>} */
const result = {};
for (const k of order) result[k] = sections[k];
for (const k of Object.keys(sections)) if (!(k in result)) result[k] = sections[k];
// The agent's side of a call, where the issue that added it looks for it: results, and the exports of the large batch.
Object.assign(result, {
  results: sections.scale.results,
  resultsCsv: { rowsPerSec: sections.scale.resultsCsvRowsPerSec },
  resultsJsonl: { rowsPerSec: sections.scale.resultsJsonlRowsPerSec },
  // Issue 20's reads flat with size: /calls pages of the 200k batch.
  paging: sections.scale.big?.paging ?? null,
  dncIntakeRatio: sections.dnc?.dncIntakeRatio ?? null,
  // Issue 20's bill per call (the scale section's one-batch run) and several tenants at once.
  cost: sections.scale.cost,
  costWithResults: sections.scale.costWithResults,
  workspaces: tenancy.workspaces.map((w) => ({
    n: w.n,
    completedPerSec: w.completedPerSec,
    bound: w.bound,
    machineBusy: w.cpu.machineBusy,
    serverCores: w.cpu.serverCores,
  })),
  fairness: tenancy.fairness,
});
Object.assign(result, { input, ratio, machine });
console.log(JSON.stringify(result));
