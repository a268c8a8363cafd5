#!/usr/bin/env node
/**
 * npm run fault — kill the whole service in the middle of a batch, start it
 * again on the same state, and check that no attempt was dialled twice and
 * that every call ends.
 *
 * Each round (FAULT_ROUNDS, default 3; FAULT_SEED, default 7, makes the
 * rounds repeatable): the service runs in wrangler dev's local runtime
 * (scripts/lib/dev-runtime.mjs) with a workspace limited to
 * FAULT_RATE calls/s (default 20), and a `webhook` agent whose dial endpoint
 * is a remote agent served by this script. The remote end checks each dial's
 * signature, counts it, and reports a seeded outcome to the statusUrl after
 * a short call, signed with the agent's secret, retrying while the service
 * is down (as a real dialler would). A batch of FAULT_CALLS (default 500)
 * calls with one callback starts; after a seeded number of calls has ended,
 * the runtime is SIGKILLed (wrangler and workerd: queued messages in memory
 * are lost, storage is kept), then started again.
 *
 * Reported per round: dials per attempt (must be exactly 1: no attempt dialled
 * twice), attempts the ledger counts but never rang (claimed before the kill,
 * fate unknown), and seconds from the restart until every call was terminal
 * (target: within 120 s). Prints a table and, last, one JSON line; exits 1 if
 * any attempt was dialled twice or a round did not finish in FAULT_TIMEOUT_S
 * (default 300).
 */
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { rmSync } from "node:fs";
import { client, freePort, sleep, startServer } from "./lib/dev-runtime.mjs";

const env = process.env;
const ROUNDS = Number(env.FAULT_ROUNDS ?? 3);
const SEED = Number(env.FAULT_SEED ?? 7);
const CALLS = Number(env.FAULT_CALLS ?? 500);
const RATE = Number(env.FAULT_RATE ?? 20);
const TIMEOUT_S = Number(env.FAULT_TIMEOUT_S ?? 300);
const TARGET_S = 120;

const log = (msg) => process.stderr.write(`fault: ${msg}\n`);

/** mulberry32: a small seeded generator, so a round can be run again exactly. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the remote agent --------------------------------------------------------------

/** Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)), key = the whsec_ secret's bytes. */
function sign(secret, id, ts, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

/**
 * The agent's dial endpoint: verifies, counts each (callId, attempt), answers
 * 200, and after a short call reports the outcome, again and again until the
 * service takes it (it may be down).
 */
async function remoteAgent(random) {
  const state = { secret: null, dials: new Map(), forged: 0, reportsPending: 0, stopped: false };
  const outcome = () => {
    const r = random();
    if (r < 0.6) return { status: "answered", duration: 1 + Math.floor(random() * 5) };
    if (r < 0.8) return { status: "no_answer" };
    if (r < 0.9) return { status: "busy" };
    return { status: "failed", error: "the carrier reported the call failed (error 31005)" };
  };
  const report = async (statusUrl, body) => {
    state.reportsPending++;
    const text = JSON.stringify(body);
    for (let tries = 0; !state.stopped && tries < 1200; tries++) {
      const id = `msg_${randomBytes(8).toString("hex")}`;
      const ts = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(statusUrl, {
          method: "POST",
          headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sign(state.secret, id, ts, text) },
          body: text,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status < 500) break; // applied (204) or refused for good (4xx): a real dialler stops either way
      } catch {
        // the service is down: try again shortly
      }
      await sleep(500);
    }
    state.reportsPending--;
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [id, ts, sig] = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => req.headers[h]);
      if (
        !state.secret ||
        !sig ||
        !String(sig)
          .split(" ")
          .includes(sign(state.secret, id, ts, body))
      ) {
        state.forged++;
        res.writeHead(401).end();
        return;
      }
      const dial = JSON.parse(body);
      const key = `${dial.callId}#${dial.attempt}`;
      state.dials.set(key, (state.dials.get(key) ?? 0) + 1);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: `remote_${key}` }));
      const result = outcome();
      setTimeout(() => void report(dial.statusUrl, { callId: dial.callId, attempt: dial.attempt, ...result }), 200 + Math.floor(random() * 1300));
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    state,
    url: `http://127.0.0.1:${port}/dial`,
    close: () => {
      state.stopped = true;
      server.close();
    },
  };
}

// ---- one round ---------------------------------------------------------------------

function numbersCsv(n, round) {
  const rows = ["phone_number"];
  for (let i = 0; i < n; i++) rows.push(`+1212${String(300 + round)}${String(i).padStart(4, "0")}`);
  return `${rows.join("\n")}\n`;
}

async function status(api, batchId) {
  return (await api.call("GET", `/v1/api/batch-calls/${batchId}/status`)).body;
}

/** Every call of the batch, a page at a time. */
async function allCalls(api, batchId) {
  const calls = [];
  for (let page = 1; ; page++) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${batchId}/calls?page=${page}&limit=100`);
    calls.push(...body.calls);
    if (!body.pagination.hasNext) return calls;
  }
}

async function round(n) {
  const random = rng(SEED * 1000 + n);
  const killAfter = Math.floor(CALLS * (0.1 + 0.6 * random())); // calls ended before the kill
  const remote = await remoteAgent(random);
  const runtime = env.FAULT_RUNTIME || "api";
  const vars = { DEV_TIME_SCALE: "600" }; // the 10-minute callback gap takes 1 s
  let server = await startServer(log, runtime, { vars });
  const base = { dir: server.dir, port: server.port, adminToken: server.adminToken, encryptionKey: server.encryptionKey, vars };
  try {
    let api = client(server.baseUrl, server.isUp, server.logPath, log);
    const ws = (
      await api.call("POST", "/v1/admin/workspaces", {
        admin: server.adminToken,
        json: { name: `fault round ${n}`, rateLimits: { callsPerSecond: RATE, maxConcurrentCalls: RATE * 3 } },
        expect: [201],
      })
    ).body;
    api.useKey(ws.apiKey, ws.workspaceId);
    const agent = (await api.call("POST", "/v1/api/agents", { json: { name: "remote", provider: "webhook", dialUrl: remote.url }, expect: [201] })).body;
    remote.state.secret = agent.signingSecret;
    const smartCallbackConfig = JSON.stringify({ enabled: true, maxAttempts: 2, gaps: [{ minutes: 10 }] });
    const up = await api.call("POST", "/v1/api/batch-calls", {
      form: { agentId: agent.agentId, file: numbersCsv(CALLS, n), smartCallbackConfig },
      expect: [201],
      timeoutMs: 120_000,
    });
    const batchId = up.body.batchId;
    log(`round ${n}: batch ${batchId} of ${CALLS} calls at ${RATE}/s; killing after ${killAfter} calls have ended`);

    for (;;) {
      const s = await status(api, batchId);
      if (s.completed + s.failed + s.cancelled >= killAfter) break;
      await sleep(100);
    }
    const before = await status(api, batchId);
    await server.crash();
    const killedAt = Date.now();
    log(`round ${n}: killed (${before.completed + before.failed} ended, ${before.active} active, ${before.waiting} waiting)`);
    await sleep(1000);

    server = await startServer(log, runtime, base);
    const restartedAt = Date.now();
    log(`round ${n}: up again after ${((restartedAt - killedAt) / 1000).toFixed(1)} s`);
    api = client(server.baseUrl, server.isUp, server.logPath, log);
    api.useKey(ws.apiKey, ws.workspaceId);
    let final = null;
    while (Date.now() - restartedAt < TIMEOUT_S * 1000) {
      const s = await status(api, batchId);
      if (s.isComplete) {
        final = s;
        break;
      }
      await sleep(500);
    }
    const recoveredAt = Date.now();
    const calls = await allCalls(api, batchId);
    const attemptsInLedger = calls.reduce((sum, c) => sum + c.attempts, 0);
    const dialCounts = [...remote.state.dials.values()];
    const ledgerAttempts = new Set(calls.flatMap((c) => Array.from({ length: c.attempts }, (_, i) => `${c.jobId}#${i + 1}`)));
    const unknownDials = [...remote.state.dials.keys()].filter((k) => !ledgerAttempts.has(k));
    const result = {
      round: n,
      seed: SEED * 1000 + n,
      calls: CALLS,
      killedAfterEnded: before.completed + before.failed,
      activeAtKill: before.active,
      restartSec: Math.round((restartedAt - killedAt) / 100) / 10,
      terminal: final !== null,
      recoverSec: final ? Math.round((recoveredAt - restartedAt) / 100) / 10 : null,
      completed: final?.completed ?? null,
      failed: final?.failed ?? null,
      attempts: attemptsInLedger,
      dials: dialCounts.reduce((a, b) => a + b, 0),
      maxDialsPerAttempt: Math.max(0, ...dialCounts),
      attemptsDialledTwice: dialCounts.filter((c) => c > 1).length,
      dialsOfUnknownAttempts: unknownDials.length,
      attemptsNeverRang: attemptsInLedger - remote.state.dials.size,
      fateUnknown: calls.filter((c) => /fate is unknown/.test(c.error ?? "")).length,
      forgedDials: remote.state.forged,
    };
    log(`round ${n}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    remote.close();
    await server.stop();
    rmSync(base.dir, { recursive: true, force: true });
  }
}

const show = (v) => (v === null || v === undefined ? "n/a" : String(v));

async function main() {
  const rounds = [];
  for (let n = 1; n <= ROUNDS; n++) rounds.push(await round(n));
  const summary = {
    rounds,
    maxDialsPerAttempt: Math.max(...rounds.map((r) => r.maxDialsPerAttempt)),
    allTerminal: rounds.every((r) => r.terminal),
    worstRecoverSec: rounds.some((r) => r.recoverSec === null) ? null : Math.max(...rounds.map((r) => r.recoverSec)),
    targetSec: TARGET_S,
  };
  const cols = [
    "round",
    "killedAfterEnded",
    "activeAtKill",
    "dials",
    "attempts",
    "maxDialsPerAttempt",
    "attemptsNeverRang",
    "fateUnknown",
    "restartSec",
    "recoverSec",
  ];
  console.log(cols.join("\t"));
  for (const r of rounds) console.log(cols.map((c) => show(r[c])).join("\t"));
  console.log("");
  console.log(JSON.stringify(summary));
  const doubled = rounds.some((r) => r.attemptsDialledTwice > 0 || r.dialsOfUnknownAttempts > 0);
  if (doubled || !summary.allTerminal) process.exit(1);
}

main().catch((err) => {
  process.stderr.write(`fault: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
