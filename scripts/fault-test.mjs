#!/usr/bin/env node
// @ts-check
/**
 * npm run fault — kill the whole service at chosen moments, start it again
 * on the same state, recover as a client would, and check what is left.
 * Everything runs in wrangler dev's local runtime (scripts/lib/dev-runtime.mjs);
 * FAULT_SEED (default 7) makes every run repeatable.
 *
 * 1. Rounds: a kill in the middle of a batch (FAULT_ROUNDS, default 3). The
 *    workspace is limited to FAULT_RATE calls/s (default 20); the agent is a
 *    `webhook` agent whose dial endpoint is a remote agent served by this
 *    script: it checks each dial's signature, counts it, and reports a seeded
 *    outcome to the statusUrl after a short call, signed with the agent's
 *    secret, retrying while the service is down (as a real dialler would). A
 *    batch of FAULT_CALLS (default 500) calls with one callback starts; after
 *    a seeded number of calls has ended, the runtime is SIGKILLed (wrangler
 *    and workerd: queued messages in memory are lost, storage is kept), then
 *    started again. Reported per round: dials per attempt (must be exactly 1:
 *    no attempt dialled twice), attempts the ledger counts but never rang
 *    (claimed before the kill, fate unknown), and seconds from the restart
 *    until every call was terminal (target: within 120 s; a round fails after
 *    FAULT_TIMEOUT_S, default 300).
 *
 * 2. Kill points: a kill between two steps of publish, cancel, pause, resume
 *    and retry (FAULT_POINTS, default all thirteen of src/lib/fault.ts:
 *    intake.armed|published|noticed, cancel.committed|summarised|emitted,
 *    pause.*, resume.*, retry.committed|summarised, and dial.gated — the
 *    contact policy's case, run by scripts/lib/fault-policy.mjs and
 *    described there; a family name such as
 *    `cancel` means all of its points). For each point the runtime starts
 *    with FAULT_KILL_POINT=<point>, a fresh workspace (FAULT_POINT_RATE calls/s,
 *    default 5) and the same remote agent, and a batch of FAULT_POINT_CALLS
 *    (default 30) is brought to where the request can reach the point:
 *    intake — nothing yet (the request is the upload, with an Idempotency-Key
 *    and a name); cancel and pause — processing, 5 calls ended; resume —
 *    paused after 5 calls, nothing active; retry — completed, with some
 *    no_answer/busy/failed outcomes. The request is sent; when the Worker logs
 *    `fault.kill_point` for it, the runtime is SIGKILLed and started again on
 *    the same state without the kill point. Then, as a client that got no
 *    answer: the same request again (the same key and file for an upload,
 *    waiting out 409s while the first request's key is leased, at most
 *    FAULT_KEY_WAIT_S, default 400); the cron once (GET /__scheduled, which
 *    the runtime serves with wrangler's --test-scheduled); then a wait of at
 *    most FAULT_POINT_TIMEOUT_S (default 120) for the expected end: the upload's batch completed, cancel
 *    cancelled with nothing waiting or active, pause paused with nothing
 *    active (and still so 3 s later: no call started), resume and retry
 *    completed again (retry: with more attempts than before it).
 *    Reported per point, read from GET /v1/admin/batches/{id}/engine (D1's
 *    summary beside the batch's object) for every batch of the workspace:
 *    batches per key (intake: batches listed under the upload's name — must
 *    be 1), stranded (queued/processing with calls waiting and no alarm —
 *    must be 0), disagreeing (summary status ≠ object status — must be 0),
 *    dials of one attempt (must be 1), and seconds from the restart until the
 *    expected end (an upload killed before it published waits out the key's
 *    5-minute lease first, by design). What the restart found, before the
 *    client acts, is in the JSON as afterRestart (the object's own alarm may
 *    already have repaired some of it; a batch read while its alarm handler
 *    runs shows no alarm), and the point's batch after the request was sent
 *    again, before the cron, as afterResend. A Worker without the engine
 *    view (before issue 14) is read through the list (summary) and /status
 *    (object); a batch is then counted stranded when it is live with calls
 *    waiting and stopped moving for the last 20 s of the wait.
 *
 * FAULT_POINTS alone runs only those points; FAULT_ROUNDS alone only the
 * rounds; both, both; neither, everything (about 27 minutes, 5 of them the
 * lease of intake.armed). FAULT_POINTS=none and FAULT_ROUNDS=0 turn a part
 * off. FAULT_KEEP=1 keeps each run's state directory and wrangler.log (the
 * path is logged). Prints a table per part and, last, one
 * JSON line; exits 1 if an attempt was dialled twice, a round did not finish,
 * or a point missed any target.
 */
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { closeSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { client, freePort, sleep, startServer } from "./lib/dev-runtime.mjs";
import { policyPoint, policyTable } from "./lib/fault-policy.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {Awaited<ReturnType<typeof startServer>>} Server */
/** @typedef {Awaited<ReturnType<typeof remoteAgent>>} RemoteAgent */
/**
 * The /status body, as far as this script reads it.
 * @typedef {{ status: string, isComplete: boolean, waiting: number, active: number, completed: number, failed: number, cancelled: number }} StatusBody
 */
/** @typedef {{ jobId: string, attempts: number, outcome: string | null, error: string | null }} Call a /calls item, as far as this script reads it */
/**
 * One batch as D1's summary and as its object see it.
 * @typedef {object} EngineView
 * @property {string} id
 * @property {string | null} name
 * @property {{ status: string }} summary
 * @property {{ status: string, waiting: number, active: number, alarmAt: number | null | undefined, ended: number } | null} object
 *   alarmAt undefined: not known (no engine view)
 * @property {boolean} agree
 * @property {boolean | null} stranded null: not judged yet
 */
/**
 * What a kill point's run found; filled in as it goes.
 * @typedef {object} PointResult
 * @property {string} point
 * @property {number} seed
 * @property {boolean} ok
 * @property {string[]} failures
 * @property {{ status: string, waiting: number, active: number, ended: number } | null} [batchBefore]
 * @property {boolean} [reached]
 * @property {number} [restartSec]
 * @property {{ batchesListed: number, batch: string, disagreeing: number, stranded: number }} [afterRestart]
 * @property {string} [resent]
 * @property {string} [afterResend]
 * @property {number | string} [cron]
 * @property {boolean} [engineView]
 * @property {string} [final]
 * @property {number | null} [batchesPerKey]
 * @property {number} [stranded]
 * @property {number} [disagreeing]
 * @property {number | null} [recoverSec]
 * @property {number} [dials]
 * @property {number} [maxDialsPerAttempt]
 * @property {number} [attemptsDialledTwice]
 */

const env = process.env;
const SEED = Number(env.FAULT_SEED ?? 7);
const CALLS = Number(env.FAULT_CALLS ?? 500);
const RATE = Number(env.FAULT_RATE ?? 20);
const TIMEOUT_S = Number(env.FAULT_TIMEOUT_S ?? 300);
const TARGET_S = 120;
const POINT_CALLS = Number(env.FAULT_POINT_CALLS ?? 30);
const POINT_RATE = Number(env.FAULT_POINT_RATE ?? 5);
const POINT_TIMEOUT_S = Number(env.FAULT_POINT_TIMEOUT_S ?? 120);
const KEY_WAIT_S = Number(env.FAULT_KEY_WAIT_S ?? 400);
const RUNTIME = env.FAULT_RUNTIME || "api";

/** src/lib/fault.ts KillPoint, in the order a request passes them. */
const KILL_POINTS = [
  "intake.armed",
  "intake.published",
  "intake.noticed",
  "cancel.committed",
  "cancel.summarised",
  "cancel.emitted",
  "pause.committed",
  "pause.summarised",
  "resume.committed",
  "resume.summarised",
  "retry.committed",
  "retry.summarised",
  "dial.gated", // the contact policy's crash case: scripts/lib/fault-policy.mjs
];

/** @param {string} msg */
const log = (msg) => process.stderr.write(`fault: ${msg}\n`);

/**
 * A run's state and wrangler.log go when it ends, unless FAULT_KEEP=1 (then their place is logged).
 * @param {string} dir
 */
function dropState(dir) {
  if (env.FAULT_KEEP === "1") log(`FAULT_KEEP=1: kept the state and wrangler.log in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

/** FAULT_POINTS / FAULT_ROUNDS: either alone runs only its part; neither, both parts. */
function plan() {
  const rounds = env.FAULT_ROUNDS !== undefined ? Number(env.FAULT_ROUNDS) : env.FAULT_POINTS !== undefined ? 0 : 3;
  const spec = env.FAULT_POINTS ?? (env.FAULT_ROUNDS !== undefined ? "none" : "all");
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`FAULT_ROUNDS=${env.FAULT_ROUNDS} is not a number of rounds`);
  /** @type {string[]} */
  const points = [];
  for (const name of spec.split(",").map((s) => s.trim())) {
    if (name === "" || name === "none") continue;
    const matches = name === "all" ? KILL_POINTS : KILL_POINTS.filter((p) => p === name || p.startsWith(`${name}.`));
    if (matches.length === 0)
      throw new Error(`FAULT_POINTS: no kill point "${name}"; the points are ${KILL_POINTS.join(", ")} (or a family: intake, cancel, …)`);
    for (const p of matches) if (!points.includes(p)) points.push(p);
  }
  return { rounds, points };
}

/**
 * mulberry32: a small seeded generator, so a round can be run again exactly.
 * @param {number} seed
 * @returns {() => number} in [0, 1)
 */
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

/**
 * Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)), key = the whsec_ secret's bytes.
 * @param {string} secret
 * @param {string | string[] | undefined} id the webhook-id header
 * @param {string | string[] | undefined} ts the webhook-timestamp header
 * @param {string} body
 */
function sign(secret, id, ts, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

/**
 * The agent's dial endpoint: verifies, counts each (callId, attempt), answers
 * 200, and after a short call reports the outcome, again and again until the
 * service takes it (it may be down).
 * @param {() => number} random
 * @param {() => { status: string }} [fixed] every dial's outcome (default: a seeded mix)
 */
async function remoteAgent(random, fixed) {
  const state = {
    /** @type {string | null} the agent's signing secret, once created */
    secret: null,
    /** @type {Map<string, number>} dials per `callId#attempt` */
    dials: new Map(),
    /** @type {{ key: string, to: string, from: string }[]} every verified dial, as it arrived */
    dialLog: [],
    forged: 0,
    reportsPending: 0,
    stopped: false,
  };
  const outcome = () => {
    const r = random();
    if (r < 0.6) return { status: "answered", duration: 1 + Math.floor(random() * 5) };
    if (r < 0.8) return { status: "no_answer" };
    if (r < 0.9) return { status: "busy" };
    return { status: "failed", error: "the carrier reported the call failed (error 31005)" };
  };
  /**
   * @param {string} statusUrl
   * @param {object} body
   */
  const report = async (statusUrl, body) => {
    state.reportsPending++;
    const text = JSON.stringify(body);
    for (let tries = 0; !state.stopped && tries < 1200; tries++) {
      const id = `msg_${randomBytes(8).toString("hex")}`;
      const ts = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(statusUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": id,
            "webhook-timestamp": ts,
            "webhook-signature": sign(/** @type {string} */ (state.secret), id, ts, text),
          },
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
    /** @type {Buffer[]} */
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
      state.dialLog.push({ key, to: dial.to, from: dial.from });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: `remote_${key}` }));
      const result = fixed ? fixed() : outcome();
      setTimeout(() => void report(dial.statusUrl, { callId: dial.callId, attempt: dial.attempt, ...result }), 200 + Math.floor(random() * 1300));
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", () => r(undefined)));
  return {
    state,
    url: `http://127.0.0.1:${port}/dial`,
    close: () => {
      state.stopped = true;
      server.close();
    },
  };
}

// ---- shared steps --------------------------------------------------------------------

/**
 * `n` numbers in a block of their own (+1 212 3bb nnnn).
 * @param {number} n
 * @param {number} block
 */
function numbersCsv(n, block) {
  const rows = ["phone_number"];
  for (let i = 0; i < n; i++) rows.push(`+1212${String(300 + block)}${String(i).padStart(4, "0")}`);
  return `${rows.join("\n")}\n`;
}

/**
 * @param {Api} api
 * @param {string} batchId
 * @returns {Promise<StatusBody>}
 */
async function status(api, batchId) {
  return (await api.call("GET", `/v1/api/batch-calls/${batchId}/status`)).body;
}

/**
 * Every call of the batch, a page at a time.
 * @param {Api} api
 * @param {string} batchId
 */
async function allCalls(api, batchId) {
  /** @type {Call[]} */
  const calls = [];
  for (let page = 1; ; page++) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${batchId}/calls?page=${page}&limit=100`);
    calls.push(...body.calls);
    if (!body.pagination.hasNext) return calls;
  }
}

/**
 * A workspace of its own (limited to `rate` calls/s) and a webhook agent dialling `remote`.
 * @param {Api} api
 * @param {Server} server
 * @param {RemoteAgent} remote
 * @param {string} name
 * @param {number} rate
 * @returns {Promise<{ ws: { apiKey: string, workspaceId: string }, agent: { agentId: string } }>}
 */
async function workspaceWithAgent(api, server, remote, name, rate) {
  const ws = (
    await api.call("POST", "/v1/admin/workspaces", {
      admin: server.adminToken,
      json: { name, rateLimits: { callsPerSecond: rate, maxConcurrentCalls: rate * 3 } },
      expect: [201],
    })
  ).body;
  api.useKey(ws.apiKey, ws.workspaceId);
  const agent = (await api.call("POST", "/v1/api/agents", { json: { name: "remote", provider: "webhook", dialUrl: remote.url }, expect: [201] })).body;
  remote.state.secret = agent.signingSecret;
  return { ws, agent };
}

/** @param {RemoteAgent} remote */
function dialStats(remote) {
  const counts = [...remote.state.dials.values()];
  return { dials: counts.reduce((a, b) => a + b, 0), maxDialsPerAttempt: Math.max(0, ...counts), attemptsDialledTwice: counts.filter((c) => c > 1).length };
}

// ---- 1. rounds: a kill in the middle of a batch -----------------------------------------

/** @param {number} n */
async function round(n) {
  const random = rng(SEED * 1000 + n);
  const killAfter = Math.floor(CALLS * (0.1 + 0.6 * random())); // calls ended before the kill
  const remote = await remoteAgent(random);
  const vars = { DEV_TIME_SCALE: "600" }; // the 10-minute callback gap takes 1 s
  let server = await startServer(log, RUNTIME, { vars });
  const base = { dir: server.dir, port: server.port, adminToken: server.adminToken, encryptionKey: server.encryptionKey, vars };
  try {
    let api = client(server.baseUrl, server.isUp, server.logPath, log);
    const { ws, agent } = await workspaceWithAgent(api, server, remote, `fault round ${n}`, RATE);
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

    server = await startServer(log, RUNTIME, base);
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
      ...dialStats(remote),
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
    dropState(base.dir);
  }
}

// ---- 2. kill points: a kill between two steps of publish or control ----------------------

/**
 * Bytes of wrangler.log so far: the kill point's line is looked for after this offset.
 * @param {string} path
 */
function logSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Waits for the Worker's `fault.kill_point` line for `point` in wrangler.log after `offset`.
 * @param {string} path
 * @param {number} offset
 * @param {string} point
 * @param {number} timeoutMs
 * @param {() => boolean} settled stop waiting: the request has answered
 */
async function killPointReached(path, offset, point, timeoutMs, settled) {
  const deadline = Date.now() + timeoutMs;
  const needle = `"point":"${point}"`;
  let carry = "";
  let at = offset;
  while (Date.now() < deadline && !settled()) {
    const size = logSize(path);
    if (size > at) {
      const fd = openSync(path, "r");
      try {
        const buf = Buffer.alloc(size - at);
        readSync(fd, buf, 0, buf.length, at);
        at = size;
        const lines = (carry + buf.toString("utf8")).split("\n");
        carry = lines.pop() ?? "";
        if (lines.some((l) => l.includes('"fault.kill_point"') && l.includes(needle))) return true;
      } finally {
        closeSync(fd);
      }
    }
    await sleep(50);
  }
  return false;
}

/**
 * Whether this Worker has the operator's engine view (issue 14); without it, the list and /status stand in.
 * @param {Api} api
 * @param {Server} server
 */
async function hasEngineView(api, server) {
  const r = await api.call("GET", "/v1/admin/batches/batch_probe/engine", { admin: server.adminToken, expect: [200, 404] });
  return !(r.status === 404 && /No route for/.test(r.body?.error ?? ""));
}

/**
 * Every batch the workspace lists (D1's summaries), all pages.
 * @param {Api} api
 */
async function listed(api) {
  /** @type {{ id: string, name: string | null, status: string }[]} */
  const out = [];
  for (let page = 1; page <= 20; page++) {
    const { body } = await api.call("GET", `/v1/api/batch-calls?page=${page}&limit=100`);
    out.push(...body.batches);
    if (!body.pagination.hasNext) break;
  }
  return out;
}

/**
 * Whether the batch's object says it is queued or processing.
 * @param {EngineView} v
 * @returns {v is EngineView & { object: NonNullable<EngineView["object"]> }}
 */
const live = (v) => Boolean(v.object && (v.object.status === "queued" || v.object.status === "processing"));

/**
 * Both sides of each listed batch: D1's summary status and the object's
 * status, waiting, active and next alarm, `agree`, `stranded`.
 * @param {Api} api
 * @param {Server} server
 * @param {boolean} engine whether the Worker has the engine view
 */
async function engineViews(api, server, engine) {
  /** @type {EngineView[]} */
  const views = [];
  for (const b of await listed(api)) {
    if (engine) {
      const { body } = await api.call("GET", `/v1/admin/batches/${b.id}/engine`, { admin: server.adminToken });
      /** @type {EngineView} */
      const v = { id: b.id, name: b.name, ...body };
      // Read from the fields, not the view's own verdict: live, calls waiting (or active, whose lease expiry needs the clock too), no alarm.
      v.stranded = Boolean(live(v) && v.object.waiting + v.object.active > 0 && v.object.alarmAt === null);
      views.push(v);
    } else {
      const s = await status(api, b.id);
      const object = { status: s.status, waiting: s.waiting, active: s.active, alarmAt: undefined, ended: s.completed + s.failed + s.cancelled };
      views.push({ id: b.id, name: b.name, summary: { status: b.status }, object, agree: b.status === s.status, stranded: null });
    }
  }
  return views;
}

/**
 * One batch's two sides in a line: "summary processing / object paused w20 a0 alarm set" (alarm "?": no engine view).
 * @param {EngineView | undefined} v
 */
function brief(v) {
  if (!v) return "no batch";
  if (!v.object) return `summary ${v.summary.status} / object none`;
  const o = v.object;
  const alarm = o.alarmAt === undefined ? "?" : o.alarmAt ? "set" : "none";
  return `summary ${v.summary.status} / object ${o.status} w${o.waiting} a${o.active} alarm ${alarm}`;
}

/**
 * The expected end for each family, on the engine view of the point's batch.
 * @param {string} family
 * @param {EngineView | undefined} v
 * @param {{ attemptsBefore: number, attemptsNow: () => number }} ctx
 */
function reachedEnd(family, v, ctx) {
  if (!v?.object || !v.agree) return false;
  const o = v.object;
  switch (family) {
    case "intake":
    case "resume":
      return o.status === "completed";
    case "retry":
      return o.status === "completed" && ctx.attemptsNow() > ctx.attemptsBefore;
    case "cancel":
      return o.status === "cancelled" && o.waiting === 0 && o.active === 0;
    case "pause":
      return o.status === "paused" && o.active === 0;
    default:
      return false;
  }
}

/**
 * Reads /status until `test` holds; throws after `timeoutMs`.
 * @param {Api} api
 * @param {string} batchId
 * @param {(s: StatusBody) => boolean} test
 * @param {string} what what `test` waits for, for the error
 */
async function untilStatus(api, batchId, test, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(api, batchId);
    if (test(s)) return s;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} did not get ${what} within ${timeoutMs / 1000} s: ${JSON.stringify(s).slice(0, 300)}`);
    await sleep(200);
  }
}

/**
 * @param {string} point
 * @param {number} index its place in KILL_POINTS, from 1 (its seed)
 * @returns {Promise<PointResult>}
 */
async function killPoint(point, index) {
  const family = point.split(".")[0] ?? "";
  const seed = SEED * 1000 + 100 + index;
  if (point === "dial.gated") {
    const deps = { log, runtime: RUNTIME, rng, remoteAgent, logSize, killPointReached, hasEngineView, engineViews, dropState };
    return policyPoint(point, seed, deps);
  }
  const random = rng(seed);
  const remote = await remoteAgent(random);
  const vars = { DEV_TIME_SCALE: "600" };
  let server = await startServer(log, RUNTIME, { vars: { ...vars, FAULT_KILL_POINT: point }, logLevel: "log", testScheduled: true });
  // Started again without the kill point: wrangler.toml's FAULT_KILL_POINT = "" applies.
  const base = {
    dir: server.dir,
    port: server.port,
    adminToken: server.adminToken,
    encryptionKey: server.encryptionKey,
    vars,
    logLevel: "log",
    testScheduled: true,
  };
  /** @type {PointResult} */
  const result = { point, seed, ok: false, failures: [] };
  /** @param {string} why */
  const fail = (why) => result.failures.push(why);
  try {
    let api = client(server.baseUrl, server.isUp, server.logPath, log);
    const engine = await hasEngineView(api, server);
    const { ws, agent } = await workspaceWithAgent(api, server, remote, `fault ${point}`, POINT_RATE);
    const name = `fault ${point} seed ${seed}`;
    const form = { agentId: agent.agentId, file: numbersCsv(POINT_CALLS, 50 + index), name };

    // Bring a batch to where the request can reach the point.
    /** @type {string | null} */
    let batchId = null;
    let attemptsBefore = 0;
    /** @type {{ method: string, path: string, form?: Record<string, string>, idempotencyKey?: string }} */
    let request;
    if (family === "intake") {
      request = { method: "POST", path: "/v1/api/batch-calls", form, idempotencyKey: `fault-${point}-${seed}` };
    } else {
      /** @type {string} */
      const id = (await api.call("POST", "/v1/api/batch-calls", { form, expect: [201] })).body.batchId;
      batchId = id;
      if (family !== "retry") await untilStatus(api, id, (s) => s.completed + s.failed >= 5, "5 calls ended");
      if (family === "resume") {
        await api.call("POST", `/v1/api/batch-calls/${id}/pause`, { retry: true });
        await untilStatus(api, id, (s) => s.status === "paused" && s.active === 0, "paused with nothing active");
      }
      if (family === "retry") {
        await untilStatus(api, id, (s) => s.isComplete, "completed");
        const calls = await allCalls(api, id);
        attemptsBefore = calls.reduce((sum, c) => sum + c.attempts, 0);
        const retryable = calls.filter((c) => /** @type {(string | null)[]} */ (["no_answer", "busy", "failed"]).includes(c.outcome)).length;
        if (retryable === 0) throw new Error(`batch ${batchId} has nothing to retry (seed ${seed}); try another FAULT_SEED`);
      }
      /** @type {Record<string, string>} */
      const actions = { cancel: "", pause: "/pause", resume: "/resume", retry: "/retry" };
      request = { method: family === "cancel" ? "DELETE" : "POST", path: `/v1/api/batch-calls/${id}${actions[family]}` };
    }
    const before = batchId ? await status(api, batchId) : null;
    result.batchBefore = before && { status: before.status, waiting: before.waiting, active: before.active, ended: before.completed + before.failed };

    // The request, until the Worker announces the kill point; then the whole runtime dies.
    const offset = logSize(server.logPath);
    // The first answer, once there is one (asserted: it is set in a callback, which TS does not follow).
    let firstAnswer = /** @type {string | null} */ (null);
    api
      .call(request.method, request.path, {
        form: request.form,
        idempotencyKey: request.idempotencyKey,
        expect: [200, 201, 409],
        retry: false,
        timeoutMs: 15 * 60_000,
      })
      .then((r) => (firstAnswer = `${r.status}`))
      .catch((/** @type {Error} */ err) => (firstAnswer ??= `no answer (${err.message.split("\n")[0]?.slice(0, 80)})`));
    const reached = await killPointReached(server.logPath, offset, point, 60_000, () => firstAnswer !== null);
    result.reached = reached;
    if (!reached) {
      fail(`the request never reached ${point} (it answered ${firstAnswer ?? "nothing in 60 s"})`);
      return result;
    }
    await server.crash();
    const killedAt = Date.now();
    log(`${point}: reached and killed`);
    await sleep(1000);

    server = await startServer(log, RUNTIME, base);
    const restartedAt = Date.now();
    result.restartSec = Math.round((restartedAt - killedAt) / 100) / 10;
    api = client(server.baseUrl, server.isUp, server.logPath, log);
    api.useKey(ws.apiKey, ws.workspaceId);

    // What the crash left, as found after the restart (the object's own alarm may already have run) and before any client acts.
    const leftViews = await engineViews(api, server, engine);
    result.afterRestart = {
      batchesListed: leftViews.length,
      batch: brief(leftViews.find((v) => (batchId ? v.id === batchId : v.name === name))),
      disagreeing: leftViews.filter((v) => v.agree === false).length,
      stranded: leftViews.filter((v) => v.stranded === true).length,
    };
    log(`${point}: after the restart, before the client acts: ${JSON.stringify(result.afterRestart)}`);

    // A client that got no answer sends the same request again.
    const resendStarted = Date.now();
    let resent;
    for (;;) {
      const r = await api.call(request.method, request.path, {
        form: request.form,
        idempotencyKey: request.idempotencyKey,
        expect: [200, 201, 409],
        retry: true, // the request that died got no answer: sending it again is what this client does anyway
      });
      resent = r;
      if (!(r.status === 409 && r.body?.code === "idempotency_conflict")) break;
      if (Date.now() - resendStarted > KEY_WAIT_S * 1000) break;
      await sleep(5000); // the dead request's key is leased: wait it out, as the 409 says
    }
    const waited = Math.round((Date.now() - resendStarted) / 1000);
    result.resent = `${resent.status}${resent.body?.code ? ` ${resent.body.code}` : ""}${waited >= 5 ? ` after ${waited} s` : ""}`;
    if (family === "intake") {
      if (resent.status !== 201) fail(`the upload sent again got ${resent.status} ${resent.body?.code ?? ""} after ${waited} s`);
      else {
        batchId = resent.body.batchId;
        const firstListed = leftViews.find((v) => v.name === name);
        result.resent += firstListed ? (firstListed.id === batchId ? " (replay)" : " (a second batch)") : " (created)";
      }
    }
    log(`${point}: sent again → ${result.resent}`);
    if (batchId) {
      // Which of the client's request and the cron repaired what: the state between the two.
      const v = (await engineViews(api, server, engine)).find((x) => x.id === batchId);
      result.afterResend = `${brief(v)}${v?.stranded ? " (stranded)" : ""}`;
    }

    // The cron's safety net, once (wrangler's --test-scheduled route; its work may go on after the answer).
    try {
      const res = await fetch(`${server.baseUrl}/__scheduled`, { signal: AbortSignal.timeout(60_000) });
      await res.text();
      result.cron = res.status;
      if (res.status !== 200) fail(`the cron could not be run: /__scheduled answered ${res.status}`);
    } catch (err) {
      const { message } = /** @type {Error} */ (err);
      result.cron = `failed: ${message}`;
      fail(`the cron could not be run: ${message}`);
    }

    // Until the expected end, or the timeout.
    let attemptsNow = 0;
    const ctx = { attemptsBefore, attemptsNow: () => attemptsNow };
    /** @type {EngineView[]} */
    let views = [];
    /** @type {number | null} */
    let settledAt = null;
    /** @type {{ at: number, views: EngineView[] }[]} */
    const history = [];
    const deadline = Date.now() + POINT_TIMEOUT_S * 1000;
    while (batchId && Date.now() < deadline) {
      views = await engineViews(api, server, engine);
      const v = views.find((x) => x.id === batchId);
      if (family === "retry" && v?.object?.status === "completed") attemptsNow = (await allCalls(api, batchId)).reduce((sum, c) => sum + c.attempts, 0);
      history.push({ at: Date.now(), views });
      if (reachedEnd(family, v, ctx)) {
        settledAt = Date.now();
        break;
      }
      await sleep(500);
    }
    if (family === "pause" && settledAt) {
      // Paused stays paused: nothing is dialled and nothing leaves the queue for 3 s.
      const dialsAtPause = dialStats(remote).dials;
      const v0 = views.find((x) => x.id === batchId);
      await sleep(3000);
      views = await engineViews(api, server, engine);
      const v1 = views.find((x) => x.id === batchId);
      if (v1?.object?.status !== "paused" || v1.object.waiting !== v0?.object?.waiting || dialStats(remote).dials !== dialsAtPause) {
        fail(`the paused batch moved: ${brief(v0)} → ${brief(v1)}, dials ${dialsAtPause} → ${dialStats(remote).dials}`);
      }
    }
    if (batchId && !settledAt) views = await engineViews(api, server, engine);
    if (!engine) {
      // No alarm to read: a live batch with calls waiting that did not move for the last 20 s is stranded.
      const since = Date.now() - 20_000;
      const old = history.find((h) => h.at >= since - 1000 && h.at <= since + 1000)?.views ?? [];
      for (const v of views) {
        const o = old.find((x) => x.id === v.id)?.object;
        v.stranded = Boolean(settledAt === null && live(v) && v.object.waiting > 0 && o && o.waiting === v.object.waiting && o.ended === v.object.ended);
      }
    }

    if (engine && views.some((v) => v.stranded)) {
      // While the object's alarm handler runs, its next alarm reads as none: a batch counts as stranded only if it still is a moment later.
      await sleep(1500);
      const again = await engineViews(api, server, engine);
      for (const v of views) v.stranded &&= again.find((x) => x.id === v.id)?.stranded === true;
    }
    const target = views.find((v) => v.id === batchId);
    result.engineView = engine;
    result.final = brief(target);
    result.batchesPerKey = family === "intake" ? views.filter((v) => v.name === name).length : null;
    result.stranded = views.filter((v) => v.stranded === true).length;
    result.disagreeing = views.filter((v) => v.agree === false).length;
    result.recoverSec = settledAt ? Math.round((settledAt - restartedAt) / 100) / 10 : null;
    Object.assign(result, dialStats(remote));
    if (family === "intake" && result.batchesPerKey !== 1) fail(`${result.batchesPerKey} batches for one Idempotency-Key`);
    if (result.stranded > 0) {
      fail(
        `${result.stranded} batch(es) stranded: ${engine ? "calls waiting, no alarm" : "calls waiting that did not move for 20 s (no engine view to read the alarm)"}`,
      );
    }
    if (result.disagreeing > 0) fail(`${result.disagreeing} batch(es) whose summary disagrees with the object`);
    if (batchId && !settledAt) fail(`not at the expected end after ${POINT_TIMEOUT_S} s: ${result.final}`);
    if ((result.attemptsDialledTwice ?? 0) > 0) fail(`${result.attemptsDialledTwice} attempt(s) dialled twice`);
    result.ok = result.failures.length === 0;
    log(`${point}: ${JSON.stringify(result)}`);
    return result;
  } catch (e) {
    const err = /** @type {Error} */ (e);
    fail(`error: ${err.message.split("\n")[0]}`);
    log(`${point}: ${err.stack ?? err.message}`);
    return result;
  } finally {
    remote.close();
    await server.stop();
    dropState(base.dir);
  }
}

// ---- report ----------------------------------------------------------------------------

/** @param {unknown} v */
const show = (v) => (v === null || v === undefined ? "-" : String(v));

/**
 * Prints `rows` as a table of the `cols` fields.
 * @param {string[]} cols
 * @param {object[]} rows
 */
function table(cols, rows) {
  /** @type {(r: object, c: string) => unknown} */
  const cell = (r, c) => /** @type {Record<string, unknown>} */ (r)[c];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => show(cell(r, c)).length)));
  /** @param {string[]} vals */
  const line = (vals) =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => show(cell(r, c)))));
  console.log("");
}

async function main() {
  const { rounds: roundCount, points } = plan();
  log(`${roundCount} round(s), ${points.length} kill point(s)${points.length ? `: ${points.join(", ")}` : ""}`);
  const rounds = [];
  for (let n = 1; n <= roundCount; n++) rounds.push(await round(n));
  /** @type {PointResult[]} */
  const pointResults = [];
  for (const p of points) pointResults.push(await killPoint(p, KILL_POINTS.indexOf(p) + 1)); // a point's seed is the same whatever else runs

  if (rounds.length) {
    table(
      ["round", "killedAfterEnded", "activeAtKill", "dials", "attempts", "maxDialsPerAttempt", "attemptsNeverRang", "fateUnknown", "restartSec", "recoverSec"],
      rounds,
    );
  }
  if (pointResults.length) {
    const rows = pointResults.map((r) => ({ ...r, result: r.ok ? "ok" : `FAIL: ${r.failures.join("; ")}` }));
    table(["point", "resent", "batchesPerKey", "stranded", "disagreeing", "maxDialsPerAttempt", "recoverSec", "result"], rows);
    policyTable(pointResults, table);
  }
  const summary = {
    rounds,
    maxDialsPerAttempt: Math.max(0, ...rounds.map((r) => r.maxDialsPerAttempt), ...pointResults.map((r) => r.maxDialsPerAttempt ?? 0)),
    allTerminal: rounds.every((r) => r.terminal),
    worstRecoverSec: rounds.some((r) => r.recoverSec === null) ? null : rounds.length ? Math.max(...rounds.map((r) => Number(r.recoverSec))) : null,
    targetSec: TARGET_S,
    points: pointResults,
    pointsFailed: pointResults.filter((r) => !r.ok).map((r) => r.point),
  };
  console.log(JSON.stringify(summary));
  const doubled = rounds.some((r) => r.attemptsDialledTwice > 0 || r.dialsOfUnknownAttempts > 0);
  if (doubled || !summary.allTerminal || summary.pointsFailed.length > 0) process.exit(1);
}

main().catch((/** @type {Error} */ err) => {
  process.stderr.write(`fault: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
