#!/usr/bin/env node
// @ts-check
/**
 * npm run bench:scale — the engine at scale, in the runtime `npm start` uses:
 * `wrangler dev --local` on fresh state in a temp dir, driven over HTTP like a
 * customer would (the vitest pool distorts Durable-Object-heavy runs).
 *
 * 1. Runs of 1, 2 and 4 batches of BENCH_SCALE_CALLS (default 3,000) answered
 *    calls uploaded at once, under a 1,000 calls/s / 1,000 concurrent
 *    workspace limit with 0-second simulated calls: completions/s per batch
 *    and per run, 201 → first dial, and per-call D1 statements and Durable
 *    Object requests from GET /v1/admin/metrics (METRICS=on).
 * 2. Drift: are the last 1,000 calls of the largest run completed as fast as
 *    the first 1,000?
 * 3. One 200,000-row batch (BENCH_SCALE_BIG_CALLS), cancelled ~5 s after it
 *    starts processing: the scheduler's tick durations (samples["tick.ms"]).
 *    BENCH_SKIP_200K=1 skips it.
 *
 * The caller-ID pool and the contact policy's cost (issue 18) are measured
 * by scripts/bench-pool.mjs on a server of their own, with the helpers
 * exported here (a batch run to completion, the status poll's cost, rates, printing).
 *
 * The Worker runs in wrangler dev's local runtime (Miniflare/workerd behind
 * wrangler's proxy, as `npm start`), started through wrangler's
 * unstable_startWorker so the devtools inspector can be off: with it on,
 * wrangler relays about 25 loopback HTTP requests per call to its own Node
 * process, which halves throughput and, at a few thousand calls, exhausts
 * workerd's open files (see host() in scripts/lib/dev-runtime.mjs). BENCH_SCALE_RUNTIME=cli runs the
 * `wrangler dev --local` command itself instead, inspector and all.
 *
 * Each run's per-call counts also give what the platform bills: Durable
 * Object rows written and read, object requests, queue messages and
 * operations, Worker requests; `cost` is the one-batch run's, priced at
 * Cloudflare's published rates (costOf, scripts/lib/prices.mjs).
 *
 * `runScale(opts)` returns the `scale` object that `npm run bench` puts in its
 * JSON; run directly, this prints a table and, as its last line, the JSON.
 * Progress goes to stderr. Other knobs: BENCH_SCALE_BATCHES ("1,2,4"; "0" for
 * none), BENCH_SCALE_POLL_MS (status poll interval, default 500),
 * BENCH_SCALE_TIMEOUT_MS (wait for one run, default 10 min),
 * BENCH_SCALE_BIG_TIMEOUT_MS (wait for one request during the large batch,
 * default 90 s), BENCH_SCALE_LOG_LEVEL (wrangler's, default warn),
 * BENCH_SCALE_KEEP=1 (keep the temp dir with the state and wrangler.log).
 *
 * Either way the Worker gets only wrangler.toml's vars plus the ones set
 * here: a temporary env file stands in for the developer's .dev.vars.
 */
import { randomUUID } from "node:crypto";
import { client, sleep, startServer, tail } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";
import { againstTelephony, usdPer1000Calls } from "./lib/prices.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {ReturnType<typeof defaults>} Options */
/** @typedef {ReturnType<typeof numbers>} Numbers */
/** @typedef {Record<string, number>} Counters GET /v1/admin/metrics counters, by name */
/** @typedef {Record<string, number | null>} PollCost counter increments per status poll */
/**
 * The /status body, as far as the bench reads it.
 * @typedef {{ status: string, isComplete: boolean, waiting: number, active: number, completed: number, failed: number, cancelled: number, total: number, startTime: number | null, completedTime: number | null }} StatusBody
 */
/**
 * One run's figures; the per-call costs and the steady rate are added once its counters are read.
 * @typedef {Awaited<ReturnType<typeof runBatches>>["run"] & Partial<ReturnType<typeof perCall>> & { steadyCompletedPerSec?: number | null }} Run
 */
/**
 * The large batch's part: its figures, or why there are none.
 * @typedef {Partial<Awaited<ReturnType<typeof bigBatch>>> & { error?: string, skipped?: boolean }} Big
 */

/** @type {Record<string, string>} */
export const RUNTIMES = {
  cli: "wrangler dev --local (HTTP)",
  api: "wrangler dev --local (HTTP; started with unstable_startWorker, devtools inspector off)",
};

/**
 * Every number ends in 0, 1, 3 or 4: the simulated provider answers those and its agent reports a
 * result for each (README, "simulated provider"); 2 is left out because that result asks for a
 * callback hours later, and a run ends when its calls do.
 */
const ANSWERED_DIGITS = [0, 1, 3, 4];
const ANSWERED_PER_EXCHANGE = 1000 * ANSWERED_DIGITS.length;

export function defaults() {
  const env = process.env;
  return {
    // "1,2,4" by default; "0" runs none (only the large batch).
    batchCounts: (env.BENCH_SCALE_BATCHES || "1,2,4")
      .split(",")
      .map(Number)
      .filter((n) => n > 0),
    callsPerBatch: Number(env.BENCH_SCALE_CALLS) || 3000,
    bigCalls: Number(env.BENCH_SCALE_BIG_CALLS) || 200_000,
    skipBig: env.BENCH_SKIP_200K === "1",
    // The one-batch run again with SIM_RESULTS=off (a second server): what results cost. BENCH_SCALE_RESULTS=0 skips it.
    compareResults: env.BENCH_SCALE_RESULTS !== "0",
    // "api" (default): wrangler dev's machinery with the devtools inspector off; "cli": the
    // `wrangler dev --local` command itself, inspector on (see host() in scripts/lib/dev-runtime.mjs).
    runtime: env.BENCH_SCALE_RUNTIME || "api",
    pollMs: Number(env.BENCH_SCALE_POLL_MS) || 500,
    runTimeoutMs: Number(env.BENCH_SCALE_TIMEOUT_MS) || 10 * 60 * 1000,
    bigWatchMs: 5000,
    bigRequestTimeoutMs: Number(env.BENCH_SCALE_BIG_TIMEOUT_MS) || 90_000,
    log: (/** @type {string} */ line) => process.stderr.write(`bench:scale: ${line}\n`),
  };
}

/**
 * @param {number | null | undefined} n
 * @param {number} [digits]
 */
export const round = (n, digits = 1) => (n === null || n === undefined || !Number.isFinite(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** @param {number[]} values */
export function median(values) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const at = (/** @type {number} */ i) => s[i] ?? Number.NaN;
  return s.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

// ---- numbers ------------------------------------------------------------------------

/**
 * The i-th answered number of the run: +1 212 <exchange> <line>, exchanges
 * from 200 up, 4,000 answered lines in each (line = 10·k + 0, 1, 3 or 4). Every
 * number the harness uses is distinct, so no batch loses rows to
 * de-duplication and no two batches share a callee.
 * @param {number} i
 */
function answeredNumber(i) {
  const exchange = 200 + Math.floor(i / ANSWERED_PER_EXCHANGE);
  if (exchange > 999) throw new Error(`number ${i} is beyond the 212 area code's ${800 * ANSWERED_PER_EXCHANGE} answered numbers`);
  const within = i % ANSWERED_PER_EXCHANGE;
  const line = Math.floor(within / ANSWERED_DIGITS.length) * 10 + Number(ANSWERED_DIGITS[within % ANSWERED_DIGITS.length]);
  return `+1212${exchange}${String(line).padStart(4, "0")}`;
}

export function numbers() {
  let next = 0;
  return {
    /**
     * A CSV of `n` numbers never handed out before.
     * @param {number} n
     */
    csv(n) {
      const rows = new Array(n + 1);
      rows[0] = "phone_number";
      for (let k = 1; k <= n; k++) rows[k] = answeredNumber(next++);
      return `${rows.join("\n")}\n`;
    },
    /**
     * The first and last number of every exchange the first `total` numbers touch.
     * @param {number} total
     */
    probe(total) {
      const rows = ["phone_number"];
      for (let start = 0; start < total; start += ANSWERED_PER_EXCHANGE) {
        rows.push(answeredNumber(start), answeredNumber(Math.min(start + ANSWERED_PER_EXCHANGE, total) - 1));
      }
      return `${rows.join("\n")}\n`;
    },
  };
}

// ---- one run ------------------------------------------------------------------------------

/**
 * Polls the unfinished batches' status in turn, one request every `pollMs`
 * whatever the number of batches, until all have completed. The figures come
 * from the server's own startTime/completedTime, so polling less often only
 * delays the harness, while polling more would load the Worker being
 * measured (each poll is counted, and later subtracted from the counters).
 * @param {Api} api
 * @param {string[]} batchIds
 * @param {{ pollMs: number, runTimeoutMs: number }} opts
 */
async function waitForCompletion(api, batchIds, { pollMs, runTimeoutMs }) {
  const deadline = Date.now() + runTimeoutMs;
  /** @type {Map<string, StatusBody>} */
  const finals = new Map();
  let polls = 0;
  for (let turn = 0; finals.size < batchIds.length; turn++) {
    const pending = batchIds.filter((id) => !finals.has(id));
    const id = /** @type {string} */ (pending[turn % pending.length]); // some are pending while the loop runs
    const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/status`);
    polls++;
    if (body.status === "completed") {
      finals.set(id, body);
      continue;
    }
    if (body.isComplete) throw new Error(`batch ${id} ended as ${body.status}, not completed: ${JSON.stringify({ ...body, recent_calls: undefined })}`);
    if (Date.now() > deadline) {
      throw new Error(
        `batch ${id} not completed after ${runTimeoutMs} ms: ${body.completed}/${body.total} done, ${body.waiting} waiting, ${body.active} active`,
      );
    }
    await sleep(pollMs);
  }
  return { finals: batchIds.map((id) => /** @type {StatusBody} */ (finals.get(id))), polls };
}

/**
 * Counters per call, after taking off what the status polls cost.
 * @param {Counters} counters
 * @param {number} dials
 * @param {number} polls
 * @param {PollCost | null} pollCost
 */
export function perCall(counters, dials, polls, pollCost) {
  /** @param {string} name */
  const net = (name) => Math.max(0, (counters[name] ?? 0) - polls * (pollCost?.[name] ?? 0));
  /** @param {string} name */
  const per = (name) => (dials > 0 ? round(net(name) / dials, 2) : null);
  return {
    d1QueriesPerCall: per("d1.statements"),
    rpcsPerCall: per("rpc.BatchScheduler"),
    limiterRpcsPerCall: per("rpc.WorkspaceLimiter"),
    carrierRpcsPerCall: per("rpc.SimulatedCarrier"),
    // Durable Object storage as billed (rows, index rows included): the batch's object's SQL and its state record,
    // the workspace's limiter; the simulated carrier never runs in production and is counted apart.
    batchRowsWrittenPerCall: per("do.BatchScheduler.rowsWritten"),
    batchKvRowsWrittenPerCall: per("do.BatchScheduler.kvRowsWritten"),
    limiterRowsWrittenPerCall: per("do.WorkspaceLimiter.rowsWritten"),
    doRowsWrittenPerCall: sumPer(per, ["do.BatchScheduler.rowsWritten", "do.BatchScheduler.kvRowsWritten", "do.WorkspaceLimiter.rowsWritten"]),
    doRowsReadPerCall: sumPer(per, ["do.BatchScheduler.rowsRead", "do.WorkspaceLimiter.rowsRead"]),
    carrierRowsWrittenPerCall: per("do.SimulatedCarrier.rowsWritten"),
    // What else the platform bills (issue 20's `cost`): Durable Object requests on the production path (the
    // carrier's apart), queue messages and operations, Worker invocations (HTTP requests and consumer batches).
    doRequestsPerCall: sumPer(per, ["rpc.BatchScheduler", "rpc.WorkspaceLimiter"]),
    queueMessagesPerCall: per("queue.sent"),
    callJobsPerCall: per("queue.call-jobs.sent"),
    webhookEventsPerCall: per("queue.webhook-events.sent"),
    // 64 KB written and deleted per message sent, 64 KB read per delivery (a retried message is read again).
    queueOperationsPerCall: queueOps(per, ["call-jobs", "webhook-events"]),
    workerRequestsPerCall: per("worker.requests"),
    consumerBatchesPerCall: per("queue.call-jobs.batches"),
    callJobsDeliveredPerCall: per("queue.call-jobs.delivered"),
    ...resultFigures(counters),
  };
}

/**
 * Queue operations per call, as Queues bills them: each message's 64 KB chunks written once and
 * deleted once, and read once per delivery (null if the Worker counts no queue messages).
 * @param {(name: string) => number | null} per
 * @param {string[]} queues
 */
function queueOps(per, queues) {
  const sent = sumPer(
    per,
    queues.map((q) => `queue.${q}.sentChunks`),
  );
  const delivered = sumPer(
    per,
    queues.map((q) => `queue.${q}.delivered`),
  );
  if (sent === null) return null;
  return round(2 * sent + (delivered ?? sent), 2);
}

/**
 * Issue 20's `cost` section from one run's per-call counts: rows, queue messages, Worker requests and
 * the bill per 1,000 calls at the published prices (scripts/lib/prices.mjs), with each item's share
 * and the telephony of a one-minute call beside it.
 * @param {Partial<ReturnType<typeof perCall>>} run
 */
export function costOf(run) {
  const pick = (/** @type {number | null | undefined} */ v) => (v === undefined ? null : v);
  const bill = usdPer1000Calls({
    doRowsWrittenPerCall: pick(run.doRowsWrittenPerCall),
    doRowsReadPerCall: pick(run.doRowsReadPerCall),
    doRequestsPerCall: pick(run.doRequestsPerCall),
    queueOperationsPerCall: pick(run.queueOperationsPerCall),
    workerRequestsPerCall: pick(run.workerRequestsPerCall),
    d1StatementsPerCall: pick(run.d1QueriesPerCall),
  });
  return {
    doRowsWrittenPerCall: pick(run.doRowsWrittenPerCall),
    doRowsReadPerCall: pick(run.doRowsReadPerCall),
    queueMessagesPerCall: pick(run.queueMessagesPerCall),
    workerRequestsPerCall: pick(run.workerRequestsPerCall),
    usdPer1000Calls: bill.usdPer1000Calls,
    doRequestsPerCall: pick(run.doRequestsPerCall),
    queueOperationsPerCall: pick(run.queueOperationsPerCall),
    d1StatementsPerCall: pick(run.d1QueriesPerCall),
    usdBreakdownPer1000Calls: bill.breakdown,
    notCounted: bill.missing,
    telephony: againstTelephony(bill.usdPer1000Calls),
  };
}

/**
 * The sum of several counters' per-call figures (null if none was counted).
 * @param {(name: string) => number | null} per
 * @param {string[]} names
 */
function sumPer(per, names) {
  const figures = names.map(per).filter((n) => n !== null);
  return figures.length > 0
    ? round(
        figures.reduce((a, b) => a + b, 0),
        2,
      )
    : null;
}

/**
 * What the simulated agent's results cost: reports the batch's object
 * recorded, and per report the requests to the result route and to the
 * object (D1 per report needs a run without results: see resultsCost).
 * @param {Counters} counters
 */
function resultFigures(counters) {
  const reports = counters["results.reports"] ?? 0;
  /** @param {string} name */
  const per = (name) => (reports > 0 ? round((counters[name] ?? 0) / reports, 2) : null);
  return { resultReports: reports, workerRequestsPerReport: per("results.requests"), rpcsPerReport: per("rpc.BatchScheduler.recordResult") };
}

/**
 * `batches` batches of callsPerBatch calls uploaded at once, until all have completed.
 * @param {Api} api
 * @param {string} adminToken
 * @param {string} agentId
 * @param {Numbers} nums
 * @param {number} batches
 * @param {Options} opts
 */
export async function runBatches(api, adminToken, agentId, nums, batches, opts) {
  const { callsPerBatch } = opts;
  await api.call("DELETE", "/v1/admin/metrics", { admin: adminToken });
  const files = Array.from({ length: batches }, () => nums.csv(callsPerBatch));
  const sentAt = Date.now();
  const uploads = await Promise.all(
    files.map((file) =>
      api.call("POST", "/v1/api/batch-calls", { form: { agentId, file }, idempotencyKey: randomUUID(), expect: [201], timeoutMs: 5 * 60_000 }),
    ),
  );
  for (const u of uploads) {
    if (u.body.totalCalls !== callsPerBatch) throw new Error(`upload accepted ${u.body.totalCalls} calls, not ${callsPerBatch}: ${JSON.stringify(u.body)}`);
  }
  /** @type {string[]} */
  const ids = uploads.map((u) => u.body.batchId);
  const { finals, polls } = await waitForCompletion(api, ids, opts);
  const { body: metrics } = await api.call("GET", "/v1/admin/metrics", { admin: adminToken });
  if (!metrics.enabled) throw new Error("GET /v1/admin/metrics says metrics are off: METRICS=on did not reach the Worker");

  /** @type {Counters} */
  const counters = metrics.counters;
  // BENCH_DUMP_COUNTERS=<file>: every counter of the run, for a breakdown the JSON line does not give.
  if (process.env.BENCH_DUMP_COUNTERS)
    (await import("node:fs")).writeFileSync(`${process.env.BENCH_DUMP_COUNTERS}.${Date.now()}`, JSON.stringify(counters, null, 1));
  const calls = batches * callsPerBatch;
  for (const f of finals) {
    if (f.completed !== callsPerBatch)
      throw new Error(`a batch completed with ${f.completed} of ${callsPerBatch} calls completed (failed ${f.failed}, cancelled ${f.cancelled})`);
  }
  const engineDials = counters["engine.dials"];
  const hasDials = typeof engineDials === "number";
  const dials = hasDials ? engineDials : finals.reduce((n, f) => n + f.completed, 0);
  const firstReceipt = Math.min(...uploads.map((u) => u.at));
  const lastCompleted = Math.max(...finals.map((f) => Number(f.completedTime)));
  return {
    ids,
    // Each batch's last /status (its startTime and completedTime are the server's own).
    finals,
    run: {
      batches,
      calls,
      completedPerSec: round(calls / ((lastCompleted - firstReceipt) / 1000)),
      perBatchCompletedPerSec: finals.map((f, i) => round(callsPerBatch / ((Number(f.completedTime) - Number(uploads[i]?.at)) / 1000))),
      firstDialAfter201Ms: Math.max(...finals.map((f, i) => Number(f.startTime) - Number(uploads[i]?.at))),
      uploadMs: Math.max(...uploads.map((u) => u.at - sentAt)),
      wallMs: lastCompleted - firstReceipt,
      dials,
      dialsFrom: hasDials ? "engine.dials" : "calls completed (no engine.dials counter)",
      statusPolls: polls,
    },
    counters,
  };
}

/**
 * Every call's end time across `ids`, through the paged calls listing (limit ≤ 100).
 * @param {Api} api
 * @param {string[]} ids
 */
export async function endTimes(api, ids) {
  /** @type {number[]} */
  const times = [];
  for (const id of ids) {
    for (let page = 1; ; page++) {
      const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/calls?limit=100&page=${page}`);
      for (const c of body.calls) if (c.endTime !== null) times.push(c.endTime);
      if (!body.pagination.hasNext) break;
    }
  }
  return times.sort((a, b) => a - b);
}

/** @param {number[]} times sorted */
export function steadyRate(times) {
  if (times.length < 20) return null;
  const a = Math.floor(times.length * 0.1);
  const b = Math.floor(times.length * 0.9);
  return round((b - a) / ((Number(times[b]) - Number(times[a])) / 1000));
}

/**
 * @param {number[]} times sorted
 * @returns {{ firstThousandPerSec: number | null, lastThousandPerSec: number | null, window?: number, calls: number }}
 */
function drift(times) {
  const k = Math.min(1000, Math.floor(times.length / 2));
  if (k < 2) return { firstThousandPerSec: null, lastThousandPerSec: null, calls: times.length };
  /**
   * @param {number | undefined} a
   * @param {number | undefined} b
   */
  const rate = (a, b) => round(k / ((Number(b) - Number(a)) / 1000));
  return {
    firstThousandPerSec: rate(times[0], times[k - 1]),
    lastThousandPerSec: rate(times[times.length - k], times[times.length - 1]),
    window: k,
    calls: times.length,
  };
}

/**
 * Upload one huge batch, let it run ~5 s, cancel it, and read the
 * scheduler's tick durations. A tick that blocks the Worker also delays
 * every request, so each one here may wait up to `bigRequestTimeoutMs`, and
 * how long the status read and the cancel took is reported beside the ticks.
 */
/**
 * Tick durations by batch size. The thread must not be saturated, or each
 * tick's wall time is mostly waiting behind other work (locally the Worker,
 * every object and D1 share one workerd thread): so a workspace of its own
 * at a modest rate, and the same measure on a small batch for comparison.
 */
const TICK_LIMITS = { callsPerSecond: 50, maxConcurrentCalls: 100 };

/**
 * @param {Api} api
 * @param {string} adminToken
 * @param {string} _agentId
 * @param {Numbers} nums
 * @param {Options} opts
 */
async function bigBatch(api, adminToken, _agentId, nums, opts) {
  const ws = await api.call("POST", "/v1/admin/workspaces", { admin: adminToken, json: { name: "bench-ticks", rateLimits: TICK_LIMITS }, expect: [201] });
  api.useKey(ws.body.apiKey, ws.body.workspaceId);
  const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
  const small = await tickRun(api, adminToken, agent.body.agentId, nums, opts, opts.callsPerBatch);
  const large = await tickRun(api, adminToken, agent.body.agentId, nums, opts, opts.bigCalls, true);
  return {
    ...large,
    limits: TICK_LIMITS,
    small: { calls: small.calls, tickSamples: small.tickSamples, tickMsMedian: small.tickMsMedian, tickMsMax: small.tickMsMax },
  };
}

/**
 * @param {Api} api
 * @param {string} adminToken
 * @param {string} agentId
 * @param {Numbers} nums
 * @param {Options} opts
 * @param {number} calls
 * @param {boolean} [paging] time deep /calls pages before the cancel (pagingTimes)
 */
async function tickRun(api, adminToken, agentId, nums, opts, calls, paging = false) {
  const timeoutMs = opts.bigRequestTimeoutMs;
  let phase = "upload";
  try {
    const file = nums.csv(calls);
    await api.call("DELETE", "/v1/admin/metrics", { admin: adminToken });
    const sentAt = Date.now();
    const up = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, file }, idempotencyKey: randomUUID(), expect: [201], timeoutMs });
    const id = up.body.batchId;
    phase = "waiting for it to start processing";
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
      if (body.status === "processing") break;
      if (body.isComplete || Date.now() > deadline) throw new Error(`status ${body.status}`);
      await sleep(200);
    }
    const processingAt = Date.now();
    await sleep(opts.bigWatchMs);
    phase = `reading its status ${opts.bigWatchMs} ms into processing`;
    const askedAt = Date.now();
    const { body: before, at: answeredAt } = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
    phase = "timing pages of its calls";
    const pagingMs = paging ? await pagingTimes(api, id, timeoutMs) : undefined;
    if (pagingMs) opts.log(`GET /calls page 1 / 1,000 / 2,000 / by cursor: ${JSON.stringify(pagingMs)}`);
    phase = "cancelling it";
    await api.call("DELETE", `/v1/api/batch-calls/${id}`, { timeoutMs });
    const cancelledAt = Date.now();
    phase = "exporting it";
    const exports = await exportRates(api, id);
    phase = "reading the metrics";
    const { body: metrics } = await api.call("GET", "/v1/admin/metrics", { admin: adminToken, timeoutMs });
    /** @type {unknown} */
    const ticks = metrics.samples?.["tick.ms"];
    const has = Array.isArray(ticks) && ticks.length > 0;
    return {
      calls: up.body.totalCalls,
      bytes: Buffer.byteLength(file),
      uploadMs: up.at - sentAt,
      watchedMs: cancelledAt - processingAt,
      statusAfterWatchMs: answeredAt - askedAt,
      cancelMs: cancelledAt - answeredAt,
      completedBeforeCancel: before.completed,
      tickSamples: Array.isArray(ticks) ? ticks.length : null,
      tickMsMedian: has ? round(median(ticks)) : null,
      tickMsMax: has ? round(Math.max(...ticks)) : null,
      exports,
      ...(pagingMs ? { paging: pagingMs } : {}),
    };
  } catch (err) {
    throw new Error(`${phase}: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * GET …/calls at pages 1, 1,000 and 2,000 (limit 100) of a running batch,
 * and page 1,001 by page 1,000's nextCursor (null if the server gives
 * none): 7 rounds of the four, interleaved so a busy moment of the machine
 * or the object's ticks weighs on each alike; the median of each, in ms as
 * the client sees them. Flat reads have page2000Ms close to page1Ms.
 * @param {Api} api
 * @param {string} id
 * @param {number} timeoutMs
 */
async function pagingTimes(api, id, timeoutMs) {
  /** @param {string} query */
  const time = async (query) => {
    const started = performance.now();
    const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/calls?${query}`, { timeoutMs });
    return { ms: performance.now() - started, body };
  };
  const cursor = (await time("page=1000&limit=100")).body?.nextCursor;
  /** @type {{ page1Ms: number[], page1000Ms: number[], page2000Ms: number[], cursorMs: number[] }} */
  const ms = { page1Ms: [], page1000Ms: [], page2000Ms: [], cursorMs: [] };
  for (let round = 0; round < 7; round++) {
    ms.page1Ms.push((await time("page=1&limit=100")).ms);
    ms.page1000Ms.push((await time("page=1000&limit=100")).ms);
    ms.page2000Ms.push((await time("page=2000&limit=100")).ms);
    if (typeof cursor === "string") ms.cursorMs.push((await time(`after=${encodeURIComponent(cursor)}&limit=100`)).ms);
  }
  /** @param {number[]} v */
  const mid = (v) => (v.length > 0 ? round(median(v), 1) : null);
  return { page1Ms: mid(ms.page1Ms), page1000Ms: mid(ms.page1000Ms), page2000Ms: mid(ms.page2000Ms), cursorMs: mid(ms.cursorMs) };
}

/**
 * Reads a batch's results.csv and results.jsonl whole, as a client
 * downloading them would, and counts their lines: rows per second of each.
 * @param {Api} api
 * @param {string} id
 */
async function exportRates(api, id) {
  /** @param {string} file */
  const read = async (file) => {
    const started = Date.now();
    const res = await api.raw("GET", `/v1/api/batch-calls/${id}/${file}`);
    if (!res.ok || !res.body) throw new Error(`${file}: ${res.status}`);
    let lines = 0;
    for await (const chunk of res.body) for (const b of /** @type {Uint8Array} */ (chunk)) if (b === 10) lines++;
    const ms = Date.now() - started;
    return { rows: file.endsWith(".csv") ? lines - 1 : lines, ms, rowsPerSec: round(lines / (ms / 1000)) };
  };
  return { resultsCsv: await read("results.csv"), resultsJsonl: await read("results.jsonl") };
}

/**
 * The same single-batch run on a server whose simulated agent reports no
 * results (SIM_RESULTS=off): the scale figures without results beside the
 * ones with, and what the results add in D1 statements per report.
 * @param {Options} opts
 * @param {Run | undefined} withResults the first run (one batch) of the main server
 */
async function resultsCost(opts, withResults) {
  const server = await startServer(opts.log, opts.runtime, { vars: { METRICS: "on", SIM_RESULTS: "off" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, opts.log);
    const ws = await api.call("POST", "/v1/admin/workspaces", {
      admin: server.adminToken,
      json: { name: "bench-no-results", rateLimits: { callsPerSecond: 1000, maxConcurrentCalls: 1000 } },
      expect: [201],
    });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const { ids, run, counters } = await runBatches(api, server.adminToken, agent.body.agentId, numbers(), 1, opts);
    const id = /** @type {string} */ (ids[0]);
    const pollCost = await measurePollCost(api, server.adminToken, id);
    /** @type {Run} */
    const without = { ...run, ...perCall(counters, run.dials, run.statusPolls, pollCost) };
    const reports = withResults?.resultReports ?? 0;
    const extraD1 =
      withResults?.d1QueriesPerCall != null && without.d1QueriesPerCall != null
        ? (withResults.d1QueriesPerCall - without.d1QueriesPerCall) * withResults.dials
        : null;
    return {
      withoutResults: {
        completedPerSec: without.completedPerSec,
        steadyCompletedPerSec: steadyRate(await endTimes(api, [id])),
        d1QueriesPerCall: without.d1QueriesPerCall,
        rpcsPerCall: without.rpcsPerCall,
      },
      d1QueriesPerReport: extraD1 !== null && reports > 0 ? round(Math.max(0, extraD1) / reports, 2) : null,
      // The bill of an answered call with no agent's result: the baseline (20.0 + 9.7 rows written).
      cost: costOf(without),
    };
  } finally {
    await server.stop();
  }
}

// ---- the whole thing -------------------------------------------------------------------------

/**
 * Starts `wrangler dev` on fresh state, runs the scale scenarios against it
 * over HTTP, stops it, and returns the figures. Throws (after stopping the
 * server) if any batch fails or a wait times out.
 * @param {Partial<Options>} [options]
 */
export async function runScale(options = {}) {
  const opts = { ...defaults(), ...options };
  const { log } = opts;
  const started = Date.now();
  if (!(opts.runtime in RUNTIMES)) throw new Error(`BENCH_SCALE_RUNTIME must be one of ${Object.keys(RUNTIMES).join(", ")}`);
  const server = await startServer(log, opts.runtime, { vars: { METRICS: "on" } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const admin = server.adminToken;
    const ws = await api.call("POST", "/v1/admin/workspaces", {
      admin,
      json: { name: "bench", rateLimits: { callsPerSecond: 1000, maxConcurrentCalls: 1000 } },
      expect: [201],
    });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const agentId = agent.body.agentId;

    // Every exchange the numbers will reach, validated by the service itself (dry run: nothing created).
    const nums = numbers();
    const needed = opts.batchCounts.reduce((n, b) => n + b * opts.callsPerBatch, 0) + (opts.skipBig ? 0 : opts.bigCalls + opts.callsPerBatch);
    const probe = nums.probe(needed);
    const dry = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, file: probe, dryRun: "true" }, expect: [200, 400] });
    const probeRows = probe.trim().split("\n").length - 1;
    if (dry.status !== 200 || dry.body.totalCalls !== probeRows)
      throw new Error(`the service rejects some bench numbers: ${JSON.stringify(dry.body).slice(0, 500)}`);

    /** @type {Run[]} */
    const runs = [];
    /** @type {PollCost | null} */
    let pollCost = null;
    /** @type {Counters | null} */
    let firstCounters = null;
    /** @type {{ ids: string[], run: Run } | null} */
    let largest = null;
    for (const batches of opts.batchCounts) {
      const { ids, run: measured, counters } = await runBatches(api, admin, agentId, nums, batches, opts);
      /** @type {Run} */
      const run = measured;
      if (!pollCost) {
        // What one status poll costs on its own, measured while the engine is idle, so it can
        // be taken off each run's counters (uploads stay in: they are part of a call's cost).
        pollCost = await measurePollCost(api, admin, /** @type {string} */ (ids[0]));
        firstCounters = counters;
      }
      Object.assign(run, perCall(counters, run.dials, run.statusPolls, pollCost));
      // Completions between the 10th and 90th percentile of end times: the run without its
      // ramp-up (uploads, materialising, first ticks all share the one local thread) and tail.
      run.steadyCompletedPerSec = steadyRate(await endTimes(api, ids));
      runs.push(run);
      largest = { ids, run };
      const fds = server.fdPeak();
      if (fds.limit && fds.maxOpenFds > fds.limit / 2) log(`WARNING: workerd has had ${fds.maxOpenFds} of its ${fds.limit} files open (see fdWatcher)`);
      log(
        `${batches} batch${batches > 1 ? "es" : ""} × ${opts.callsPerBatch}: ${run.completedPerSec} completed/s ` +
          `(per batch ${run.perBatchCompletedPerSec.join(" / ")}; steady ${run.steadyCompletedPerSec}), 201 → first dial ${run.firstDialAfter201Ms} ms, ` +
          `${run.d1QueriesPerCall} D1 statements, ${run.rpcsPerCall} scheduler / ${run.limiterRpcsPerCall} limiter / ` +
          `${run.carrierRpcsPerCall} carrier requests per call; ${run.statusPolls} status polls`,
      );
    }

    let driftResult = null;
    if (largest) {
      driftResult = drift(await endTimes(api, largest.ids));
      log(
        `drift over the ${largest.run.batches}-batch run: first ${driftResult.window} calls ${driftResult.firstThousandPerSec}/s, last ${driftResult.window} ${driftResult.lastThousandPerSec}/s`,
      );
    }

    let results = null;
    /** @type {ReturnType<typeof costOf> | null} */
    let costWithoutResults = null;
    if (opts.compareResults && runs[0]) {
      log("the one-batch run again on a server whose simulated agent reports no results (SIM_RESULTS=off)…");
      const cost = await resultsCost(opts, runs[0]);
      costWithoutResults = cost.cost;
      const first = runs[0];
      results = {
        reportsPerSec: first.wallMs > 0 && first.resultReports ? round(first.resultReports / (first.wallMs / 1000)) : null,
        workerRequestsPerReport: first.workerRequestsPerReport ?? null,
        rpcsPerReport: first.rpcsPerReport ?? null,
        d1QueriesPerReport: cost.d1QueriesPerReport,
        reports: first.resultReports ?? 0,
        withResults: {
          completedPerSec: first.completedPerSec,
          steadyCompletedPerSec: first.steadyCompletedPerSec,
          d1QueriesPerCall: first.d1QueriesPerCall,
          rpcsPerCall: first.rpcsPerCall,
        },
        withoutResults: cost.withoutResults,
      };
      log(
        `results: ${results.reports} reports at ${results.reportsPerSec}/s, ${results.workerRequestsPerReport} Worker / ${results.rpcsPerReport} object requests and ` +
          `${results.d1QueriesPerReport} D1 statements per report; 1 batch ${first.completedPerSec}/s with results, ${cost.withoutResults.completedPerSec}/s without`,
      );
    }

    /** @type {Big | null} */
    let big = null;
    if (opts.skipBig) {
      log("BENCH_SKIP_200K=1: skipping the large batch; tickMsAt200k is null");
    } else {
      log(`uploading one ${opts.bigCalls}-call batch for the tick durations…`);
      try {
        big = await bigBatch(api, admin, agentId, nums, opts);
      } catch (err) {
        // The runs above stand on their own; a Worker that a huge batch makes unresponsive is a
        // finding to report, not a reason to throw them away. It is loud and in the JSON.
        const { message } = /** @type {Error} */ (err);
        big = { calls: opts.bigCalls, error: message };
        log(`WARNING: the ${opts.bigCalls}-call case failed, tickMsAt200k is null: ${message}`);
      }
      if (big.error) {
        // reported above
      } else if (big.tickSamples === null) {
        log('WARNING: the Worker records no samples["tick.ms"]; tickMsAt200k is null (not measured)');
      } else {
        log(
          `${big.calls}-call batch: tick median ${big.tickMsMedian} ms, max ${big.tickMsMax} ms over ${big.tickSamples} ticks; ${big.completedBeforeCancel} calls completed before the cancel`,
        );
      }
      if (!big.error) log(`${big.calls}-call batch: a status read took ${big.statusAfterWatchMs} ms and the cancel ${big.cancelMs} ms while it ran`);
    }

    return {
      runs,
      // Per-call costs of the largest run (the 4-batch one by default): most calls, so the
      // upload's and the polls' share is smallest. Each run's own figures are in `runs`.
      d1QueriesPerCall: largest?.run.d1QueriesPerCall ?? null,
      rpcsPerCall: largest?.run.rpcsPerCall ?? null,
      limiterRpcsPerCall: largest?.run.limiterRpcsPerCall ?? null,
      carrierRpcsPerCall: largest?.run.carrierRpcsPerCall ?? null,
      firstDialAfter201Ms: runs[0]?.firstDialAfter201Ms ?? null,
      // Issue 20's bill per call, from the one-batch run at the workspace limit: an answered call (the run
      // without the simulated agent's results, when it ran), and the same with the agent's result for each call.
      cost: costWithoutResults ?? (runs[0] ? costOf(runs[0]) : null),
      costWithResults: runs[0] ? costOf(runs[0]) : null,
      tickMsAt200k: big?.tickMsMedian ?? null,
      // The same measure on a batch of callsPerBatch under the same limits: ticks should not grow with size.
      tickMsSmallBatch: big?.small?.tickMsMedian ?? null,
      tickMsMaxAt200k: big?.tickMsMax ?? null,
      drift: driftResult,
      results,
      resultsCsvRowsPerSec: big?.exports?.resultsCsv.rowsPerSec ?? null,
      resultsJsonlRowsPerSec: big?.exports?.resultsJsonl.rowsPerSec ?? null,
      big: big ?? { skipped: true },
      pollCost,
      counters: firstCounters,
      config: {
        callsPerBatch: opts.callsPerBatch,
        rateLimits: { callsPerSecond: 1000, maxConcurrentCalls: 1000 },
        simCallSeconds: 0,
        pollMs: opts.pollMs,
      },
      // Requests sent again after a connection failed (see client); a retried upload's 201 arrives late.
      networkRetries: api.retries(),
      // Peak open descriptors of wrangler dev's workerd processes against their limit (see fdWatcher).
      runtimeFds: server.fdPeak(),
      tookMs: Date.now() - started,
      runtime: RUNTIMES[opts.runtime],
    };
  } catch (err) {
    const logTail = tail(server.logPath, 60);
    log(`failed; the end of wrangler dev's log:\n${logTail}`);
    if (/Too many open files/.test(logTail)) {
      log(
        "workerd ran out of file descriptors: wrangler dev forwards each console line of the Worker to its Node " +
          "process over loopback HTTP, and those connections piled up. Run on an idle machine, or log less per call.",
      );
    }
    throw err;
  } finally {
    await server.stop();
  }
}

/**
 * Counter increments per status poll of a finished batch (engine idle).
 * @param {Api} api
 * @param {string} admin
 * @param {string} batchId
 * @returns {Promise<PollCost>}
 */
export async function measurePollCost(api, admin, batchId, polls = 10) {
  await api.call("DELETE", "/v1/admin/metrics", { admin });
  for (let i = 0; i < polls; i++) await api.call("GET", `/v1/api/batch-calls/${batchId}/status`);
  const { body } = await api.call("GET", "/v1/admin/metrics", { admin });
  /** @type {Counters} */
  const counters = body.counters;
  return Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, round(v / polls, 2)]));
}

// ---- printing ------------------------------------------------------------------------------

/**
 * @param {number | null | undefined} v
 * @param {string} [unit]
 */
export const show = (v, unit = "") => (v === null || v === undefined ? "n/a" : `${v.toLocaleString("en-US")}${unit}`);

/**
 * @param {string[]} headers
 * @param {string[][]} rows
 */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  /** @param {string[]} cells */
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * The scale section as printed by both `npm run bench:scale` and `npm run bench`.
 * @param {Awaited<ReturnType<typeof runScale>>} s
 */
export function formatScale(s) {
  const runs = table(
    [
      "batches at once",
      "calls",
      "completed/s",
      "steady /s",
      "per batch /s",
      "201→first dial ms",
      "D1 stmts/call",
      "scheduler rpc/call",
      "limiter rpc/call",
      "carrier rpc/call",
      "status polls",
    ],
    s.runs.map((r) => [
      String(r.batches),
      show(r.calls),
      show(r.completedPerSec),
      show(r.steadyCompletedPerSec),
      r.perBatchCompletedPerSec.join(" / "),
      show(r.firstDialAfter201Ms),
      show(r.d1QueriesPerCall),
      show(r.rpcsPerCall),
      show(r.limiterRpcsPerCall),
      show(r.carrierRpcsPerCall),
      show(r.statusPolls),
    ]),
  );
  let tick;
  if (s.big?.skipped) tick = "skipped (BENCH_SKIP_200K=1)";
  else if (s.big?.error) tick = `FAILED: ${s.big.error.slice(0, 160)}`;
  else if (s.tickMsAt200k === null)
    tick = `not recorded by the Worker (no samples["tick.ms"]); ${show(s.big.calls)}-call batch cancelled after ${show(s.big.watchedMs)} ms`;
  else
    tick =
      `median ${show(s.tickMsAt200k)} ms, max ${show(s.tickMsMaxAt200k)} ms over ${show(s.big.tickSamples)} ticks (${show(s.big.calls)}-call batch); ` +
      `${show(s.big.small?.calls)}-call batch: median ${show(s.tickMsSmallBatch)} ms (limit ${s.big.limits?.callsPerSecond}/s)`;
  return [
    `Scale (${s.runtime}): batches of ${show(s.config.callsPerBatch)} answered calls, limit ${s.config.rateLimits.callsPerSecond}/s and ${s.config.rateLimits.maxConcurrentCalls} concurrent, 0 s simulated calls; took ${show(Math.round(s.tookMs / 1000))} s`,
    "",
    runs,
    "",
    table(
      ["measure", "value"],
      [
        [
          `drift: first / last ${show(s.drift?.window ?? 1000)} completions`,
          s.drift ? `${show(s.drift.firstThousandPerSec)} / ${show(s.drift.lastThousandPerSec)} per s (${show(s.drift.calls)} calls)` : "n/a",
        ],
        ["scheduler tick at 200k calls", tick],
        [
          "200k: status read / cancel while it runs",
          s.big?.cancelMs === undefined ? "n/a" : `${show(s.big.statusAfterWatchMs)} ms / ${show(s.big.cancelMs)} ms`,
        ],
        [
          "simulated results (1 batch)",
          s.results
            ? `${show(s.results.reports)} reports at ${show(s.results.reportsPerSec)}/s; per report ${show(s.results.workerRequestsPerReport)} Worker, ` +
              `${show(s.results.rpcsPerReport)} object requests, ${show(s.results.d1QueriesPerReport)} D1 statements`
            : "not compared (BENCH_SCALE_RESULTS=0)",
        ],
        [
          "1 batch completed/s with / without results",
          s.results ? `${show(s.results.withResults.completedPerSec)} / ${show(s.results.withoutResults.completedPerSec)}` : "n/a",
        ],
        [
          "200k: GET /calls page 1 / 1,000 / 2,000 / by cursor (limit 100)",
          s.big?.paging
            ? `${show(s.big.paging.page1Ms)} / ${show(s.big.paging.page1000Ms)} / ${show(s.big.paging.page2000Ms)} / ${show(s.big.paging.cursorMs)} ms`
            : "n/a",
        ],
        [
          "200k batch: results.csv / results.jsonl rows/s",
          s.big?.exports ? `${show(s.resultsCsvRowsPerSec)} / ${show(s.resultsJsonlRowsPerSec)} (${show(s.big.exports.resultsCsv.rows)} rows)` : "n/a",
        ],
        [
          "platform cost per 1,000 calls (1 batch; scripts/lib/prices.mjs)",
          s.cost
            ? `$${show(s.cost.usdPer1000Calls)}: ${show(s.cost.doRowsWrittenPerCall)} object rows written, ${show(s.cost.doRowsReadPerCall)} read, ` +
              `${show(s.cost.queueMessagesPerCall)} queue messages, ${show(s.cost.workerRequestsPerCall)} Worker requests per call`
            : "n/a",
        ],
        ["status poll cost (subtracted)", `${show(s.pollCost?.["d1.statements"] ?? 0)} D1 statements each`],
        ["dials counted from", s.runs[0]?.dialsFrom ?? "n/a"],
        ["workerd open files, peak / limit", `${show(s.runtimeFds?.maxOpenFds)} / ${show(s.runtimeFds?.limit)}`],
        ["requests sent again after a connection failed", show(s.networkRetries)],
      ],
    ),
  ].join("\n");
}

await runIfMain(import.meta.url, "bench:scale", () => runScale(), formatScale);
