#!/usr/bin/env node
// @ts-check
/**
 * npm run bench:consumer — the `call-jobs` consumer's `max_batch_size`
 * chosen by measurement (issue 20). For each size (BENCH_CONSUMER_SIZES,
 * default "10,50,100") a dev server runs a variant of wrangler.toml with
 * only that value changed (scripts/lib/wrangler-variant.mjs; the project's
 * file is not touched), fresh state, METRICS=on, and the same two loads:
 * one workspace's batch of BENCH_SCALE_CALLS (default 3,000) answered
 * 0-second calls, then 4 workspaces' at once (each 1,000 calls/s). Per size
 * and load: completions/s, consumer invocations (the queue() batches the
 * local broker delivered; per 1,000 calls and messages per invocation),
 * what bounded the run (CPU, scripts/lib/cpu-sample.mjs) and the platform's
 * cost per 1,000 calls (scripts/lib/prices.mjs).
 *
 * `runConsumer(opts)` returns `{ consumer: [...] }`; run directly, this
 * prints a table and, as its last line, the JSON. BENCH_CONSUMER_ROUNDS
 * (default 1) repeats the sizes in turn, so a busy moment of a shared
 * machine weighs on each alike; the figures are each size's median.
 * BENCH_CONSUMER_LOADS ("1,4") sets the loads (workspaces at once);
 * BENCH_CONSUMER_RESULTS=0 turns the simulated agent's results off (each
 * costs the local thread ~4 ms), for the engine's own ceiling.
 */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { runIfMain } from "./lib/bench-main.mjs";
import { cpuWatch } from "./lib/cpu-sample.mjs";
import { writeVariant } from "./lib/wrangler-variant.mjs";
import { boundOf, concurrentRun, onServer, tenants } from "./bench-fairness.mjs";
import { costOf, defaults, median, numbers, round, RUNTIMES, show, table } from "./bench-scale.mjs";

export function options() {
  const env = process.env;
  return {
    ...defaults(),
    sizes: (env.BENCH_CONSUMER_SIZES || "10,50,100")
      .split(",")
      .map(Number)
      .filter((n) => n > 0 && n <= 100),
    loads: (env.BENCH_CONSUMER_LOADS || "1,4")
      .split(",")
      .map(Number)
      .filter((n) => n > 0),
    results: env.BENCH_CONSUMER_RESULTS !== "0",
    rounds: Math.max(1, Number(env.BENCH_CONSUMER_ROUNDS) || 1),
    log: (/** @type {string} */ line) => process.stderr.write(`bench:consumer: ${line}\n`),
  };
}

/**
 * One server with `max_batch_size = size` for call-jobs: each load once.
 * @param {number} size
 * @param {ReturnType<typeof options>} opts
 */
async function oneSize(size, opts) {
  const config = writeVariant({ queue: "call-jobs", maxBatchSize: size });
  // `config` needs scripts/lib/dev-runtime.mjs to pass it on (the guard below says so if it does not).
  const serverOpts = { vars: { METRICS: "on", SIM_RESULTS: opts.results ? "on" : "off" }, config };
  try {
    return await onServer(opts, serverOpts, (server, cpu) => measureLoads(server, cpu, size, config, opts));
  } finally {
    rmSync(dirname(config), { recursive: true, force: true });
  }
}

/**
 * Each load in turn on the server of one size.
 * @param {import("./bench-fairness.mjs").Server} server
 * @param {ReturnType<typeof cpuWatch>} cpu
 * @param {number} size
 * @param {string} config
 * @param {ReturnType<typeof options>} opts
 */
async function measureLoads(server, cpu, size, config, opts) {
  const group = await tenants(server, Math.max(...opts.loads), opts.log, `consumer-${size}`);
  const nums = numbers();
  const out = [];
  for (const n of opts.loads) {
    const r = await concurrentRun(server, group.slice(0, n), nums, opts, cpu, null);
    const invocations = r.counters["queue.call-jobs.batches"] ?? null;
    const delivered = r.counters["queue.call-jobs.delivered"] ?? null;
    const row = {
      maxBatchSize: size,
      workspaces: n,
      calls: r.run.calls,
      completedPerSec: r.run.completedPerSec,
      consumerInvocations: invocations,
      invocationsPer1000Calls: invocations === null ? null : round((invocations / r.run.dials) * 1000, 1),
      messagesPerInvocation: invocations && delivered !== null ? round(delivered / invocations, 1) : null,
      firstDialAfter201Ms: Math.max(...r.run.firstDialAfter201Ms),
      usdPer1000Calls: costOf(r.run).usdPer1000Calls,
      doRowsWrittenPerCall: r.run.doRowsWrittenPerCall ?? null,
      doRowsReadPerCall: r.run.doRowsReadPerCall ?? null,
      workerRequestsPerCall: r.run.workerRequestsPerCall ?? null,
      doRequestsPerCall: r.run.doRequestsPerCall ?? null,
      cpu: r.run.cpu,
      bound: boundOf(r.run.cpu),
    };
    if (size > 10 && row.messagesPerInvocation !== null && row.messagesPerInvocation <= 10) {
      throw new Error(
        `max_batch_size ${size} was not applied (${row.messagesPerInvocation} messages per invocation): the dev server ran the project's wrangler.toml, not ${config}`,
      );
    }
    opts.log(
      `max_batch_size ${size}, ${n} workspace(s): ${row.completedPerSec} calls/s, ${row.consumerInvocations} consumer invocations ` +
        `(${row.messagesPerInvocation} messages each), $${row.usdPer1000Calls} per 1,000 calls; ${row.bound}`,
    );
    out.push(row);
  }
  return out;
}

/**
 * Every size in turn, `rounds` times; each size and load's median over the rounds.
 * @param {Partial<ReturnType<typeof options>>} [overrides]
 */
export async function runConsumer(overrides = {}) {
  const opts = { ...options(), ...overrides };
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const started = Date.now();
  /** @type {Awaited<ReturnType<typeof oneSize>>} */
  const all = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const size of opts.sizes) all.push(...(await oneSize(size, opts)));
  }
  const consumer = [];
  for (const size of opts.sizes) {
    for (const n of opts.loads) {
      const runs = all.filter((r) => r.maxBatchSize === size && r.workspaces === n);
      const mid = (/** @type {(r: (typeof runs)[number]) => number | null} */ f) => median(runs.map(f).filter((v) => v !== null));
      const last = /** @type {(typeof runs)[number]} */ (runs[runs.length - 1]);
      consumer.push({
        ...last,
        completedPerSec: mid((r) => r.completedPerSec),
        consumerInvocations: mid((r) => r.consumerInvocations),
        invocationsPer1000Calls: mid((r) => r.invocationsPer1000Calls),
        usdPer1000Calls: mid((r) => r.usdPer1000Calls),
        rounds: runs.map((r) => r.completedPerSec),
      });
    }
  }
  return {
    consumer,
    config: { callsPerBatch: opts.callsPerBatch, rounds: opts.rounds, loads: opts.loads, results: opts.results },
    runtime: RUNTIMES[opts.runtime],
    tookMs: Date.now() - started,
  };
}

/** @param {Awaited<ReturnType<typeof runConsumer>>} r */
export function formatConsumer(r) {
  return [
    `call-jobs consumer max_batch_size (${r.runtime}): ${show(r.config.callsPerBatch)}-call batches, ${r.config.rounds} round(s); took ${show(Math.round(r.tookMs / 1000))} s`,
    "",
    table(
      [
        "max_batch_size",
        "workspaces",
        "completed/s",
        "consumer invocations",
        "per 1,000 calls",
        "msgs/invocation",
        "201→first dial ms",
        "$/1,000 calls",
        "cores busy",
        "bound",
      ],
      r.consumer.map((c) => [
        String(c.maxBatchSize),
        String(c.workspaces),
        show(c.completedPerSec),
        show(c.consumerInvocations),
        show(c.invocationsPer1000Calls),
        show(c.messagesPerInvocation),
        show(c.firstDialAfter201Ms),
        show(c.usdPer1000Calls),
        c.cpu.machineBusy === null ? "n/a" : `${Math.round(c.cpu.machineBusy * 100)}%`,
        c.bound.split(":")[0] ?? "",
      ]),
    ),
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:consumer", () => runConsumer(), formatConsumer);
