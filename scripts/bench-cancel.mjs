#!/usr/bin/env node
// @ts-check
/**
 * node scripts/bench-cancel.mjs — what a cancel of a large batch costs, in
 * the runtime `npm start` uses (wrangler dev --local, fresh state): for each
 * size in BENCH_CANCEL_SIZES (default "50000,200000") a batch of that many
 * answered numbers is uploaded to a 50 calls/s workspace, left to run ~2 s,
 * and cancelled. Reported: a status read's time just before (the
 * machine's floor for any request), the DELETE's answer time, the time until no call
 * of the batch reads `waiting` any more (the whole settle, polled at
 * BENCH_CANCEL_POLL_MS, default 50), what /status said right after the
 * answer, and whether the D1 summary (the batch view) ends equal to the
 * object's counters. CANCEL_SLICE_CALLS, when set, is passed to the Worker
 * (the cancel's slice). Progress goes to stderr; the last line is the JSON.
 */
import { randomUUID } from "node:crypto";
import { client, sleep, startServer } from "./lib/dev-runtime.mjs";
import { runIfMain } from "./lib/bench-main.mjs";
import { numbers } from "./bench-scale.mjs";

const log = (/** @type {string} */ line) => process.stderr.write(`bench:cancel: ${line}\n`);
const sizes = (process.env.BENCH_CANCEL_SIZES || "50000,200000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const pollMs = Number(process.env.BENCH_CANCEL_POLL_MS) || 50;
const timeoutMs = 120_000;

/**
 * @param {ReturnType<typeof client>} api
 * @param {string} agentId
 * @param {ReturnType<typeof numbers>} nums
 * @param {number} size
 */
async function one(api, agentId, nums, size) {
  const up = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, file: nums.csv(size) }, idempotencyKey: randomUUID(), expect: [201], timeoutMs });
  const id = up.body.batchId;
  for (;;) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
    if (body.status === "processing") break;
    await sleep(200);
  }
  await sleep(2000);
  // A status read just before: what any request to the batch costs on this machine now (the cancel's floor).
  const readAt = Date.now();
  const read = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
  const statusMs = read.at - readAt;
  const sentAt = Date.now();
  const cancel = await api.call("DELETE", `/v1/api/batch-calls/${id}`, { timeoutMs });
  const cancelMs = cancel.at - sentAt;
  const { body: status } = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
  let polls = 0;
  for (;;) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${id}/calls?status=waiting&limit=1`, { timeoutMs });
    polls++;
    if (body.calls.length === 0) break;
    await sleep(pollMs);
  }
  const settleMs = Date.now() - sentAt;
  // The summary reaches D1 with the settle's last tick: give it a moment, then compare with the object's counters.
  await sleep(500);
  const { body: finalStatus } = await api.call("GET", `/v1/api/batch-calls/${id}/status`, { timeoutMs });
  const { body: view } = await api.call("GET", `/v1/api/batch-calls/${id}`, { timeoutMs });
  const d = cancel.body.details;
  return {
    calls: size,
    statusMs,
    cancelMs,
    settleMs,
    polls,
    answered: d,
    statusAfterAnswer: { waiting: status.waiting, active: status.active, cancelled: status.cancelled, completed: status.completed, failed: status.failed },
    final: {
      waiting: finalStatus.waiting,
      active: finalStatus.active,
      cancelled: finalStatus.cancelled,
      completed: finalStatus.completed,
      failed: finalStatus.failed,
    },
    view: JSON.stringify(view).slice(0, 400),
  };
}

async function run() {
  const slice = process.env.CANCEL_SLICE_CALLS;
  const server = await startServer(log, process.env.BENCH_SCALE_RUNTIME || "api", { vars: { METRICS: "on", ...(slice ? { CANCEL_SLICE_CALLS: slice } : {}) } });
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const ws = await api.call("POST", "/v1/admin/workspaces", {
      admin: server.adminToken,
      json: { name: "bench-cancel", rateLimits: { callsPerSecond: 50, maxConcurrentCalls: 100 } },
      expect: [201],
    });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const nums = numbers();
    const results = [];
    for (const size of sizes) {
      log(`${size} calls`);
      const r = await one(api, agent.body.agentId, nums, size);
      log(`${size}: status read ${r.statusMs} ms; cancel answered in ${r.cancelMs} ms, settled in ${r.settleMs} ms`);
      results.push(r);
    }
    return { cancel: results };
  } finally {
    await server.stop();
  }
}

await runIfMain(import.meta.url, "bench:cancel", run, (r) =>
  r.cancel.map((x) => `${x.calls} calls: cancel ${x.cancelMs} ms, settled ${x.settleMs} ms; answered ${JSON.stringify(x.answered)}`).join("\n"),
);
