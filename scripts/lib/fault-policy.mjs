// @ts-check
/**
 * `npm run fault`, kill point `dial.gated`: a crash between choosing a
 * caller ID and dialling must never count an attempt twice nor let a third
 * attempt through a "2 per day" contact policy (issue 18).
 *
 * A workspace at FAULT_POINT_RATE calls/s (default 5) with contactPolicy
 * {maxAttempts: [{count: 2, hours: 24}]}; fault-test.mjs's remote webhook
 * agent, with a pool of 3 numbers (round_robin, perNumber.callsPerSecond 1),
 * answers every dial no_answer. Two batches over the same 10 numbers, each
 * with callbacks for 3 attempts 1 minute apart (0.1 s at DEV_TIME_SCALE 600;
 * the policy's hours are never scaled), are scheduled for one instant so
 * they race for the numbers from the first second. The runtime starts with
 * FAULT_KILL_POINT=dial.gated: at the first claim (the workspace limiter has
 * chosen the caller ID and counted the attempt for the policy, the provider
 * has not been asked) the Worker logs the point and the runtime is SIGKILLed,
 * then started again on the same state without it; the client runs the cron
 * once. Then a wait (at most FAULT_POLICY_TIMEOUT_S, default 300; a claim
 * lost in the kill settles after the engine's 60 s DIAL_CONFIRM_MS) until
 * nothing more can happen now: every call terminal or waiting with a
 * nextAttemptAt at least an hour ahead, nothing active, no report pending,
 * and no dial for 5 s more.
 *
 * Checked, each pass or fail (any fail fails the point): dials per recipient
 * number across both batches (at the remote agent) ≤ 2; attempts per number
 * in the batches' histories, the lost claims included (the policy counted
 * them), ≤ 2; dials per attempt ≤ 1, and no dial of an attempt the batches
 * do not know; no call ended before its 3 attempts (only the policy holds
 * them back here, and it must hold, never fail); every waiting call says
 * waitReason contact_policy with nextAttemptAt ≥ its number's first attempt
 * + 24 h; no call held while its number has fewer than 2 attempts (an
 * attempt counted twice would do that); every caller ID, as dialled and as
 * recorded, one of the pool's, the two the same, and never 2 starts from one
 * number within a second (the start times the gate recorded); as for the
 * other points, no batch stranded and none whose summary disagrees with its
 * object.
 */
import { client, sleep, startServer } from "./dev-runtime.mjs";

/** @typedef {ReturnType<typeof client>} Api */
/** @typedef {Awaited<ReturnType<typeof startServer>>} Server */
/** @typedef {{ key: string, to: string, from: string }} Dial one dial as the remote agent got it */
/**
 * fault-test.mjs's remote agent, as far as this scenario reads it.
 * @typedef {{ state: { secret: string | null, dials: Map<string, number>, dialLog: Dial[], reportsPending: number }, url: string, close: () => void }} Remote
 */
/**
 * What fault-test.mjs lends this scenario: its log, runtime, seeded
 * generator, remote agent, kill-point watch and engine view.
 * @typedef {object} Deps
 * @property {(msg: string) => void} log
 * @property {string} runtime
 * @property {(seed: number) => () => number} rng
 * @property {(random: () => number, fixed?: () => { status: string }) => Promise<Remote>} remoteAgent
 * @property {(path: string) => number} logSize
 * @property {(path: string, offset: number, point: string, timeoutMs: number, settled: () => boolean) => Promise<boolean>} killPointReached
 * @property {(api: Api, server: Server) => Promise<boolean>} hasEngineView
 * @property {(api: Api, server: Server, engine: boolean) => Promise<{ id: string, agree: boolean, stranded: boolean | null }[]>} engineViews
 * @property {(dir: string) => void} dropState
 */
/**
 * A /calls item, and GET …/calls/{callId}'s attempt history, as far as this scenario reads them.
 * @typedef {{ jobId: string, status: string, phone_number: string, attempts: number, error: string | null, nextAttemptAt: string | null, waitReason: string | null }} Call
 * @typedef {{ attempt: number, from: string | null, to: string, startTime: number | null, error: string | null }} Attempt
 */
/** @typedef {{ call: Call, history: Attempt[], detailWaitReason: string | null }} Detail a call as /calls lists it, with its detail's attempts and wait reason */
/** @typedef {{ name: string, value: number, max: number, pass: boolean }} Check one figure, its ceiling and whether it kept under it */
/**
 * @typedef {object} PolicyResult
 * @property {string} point
 * @property {number} seed
 * @property {boolean} ok
 * @property {string[]} failures
 * @property {Check[]} [checks]
 * @property {boolean} [reached]
 * @property {number} [dialsBeforeKill]
 * @property {number} [activeAfterRestart] calls active when first read after the restart: the claims the kill left, and any the restarted runtime made already
 * @property {number} [restartSec]
 * @property {number | string} [cron]
 * @property {number | null} [recoverSec]
 * @property {number} [dials]
 * @property {number} [attempts]
 * @property {number} [attemptsNeverRang]
 * @property {string[]} [neverRangErrors]
 * @property {number} [maxDialsPerAttempt]
 * @property {number} [maxDialsPerNumber]
 * @property {number} [maxAttemptsPerNumber]
 * @property {number} [held]
 * @property {number} [terminal]
 * @property {Record<string, number>} [waitReasonsListed] the waiting calls' waitReason in /calls items (the check reads these)
 * @property {Record<string, number>} [waitReasonsInDetail] and in GET …/calls/{callId}
 * @property {number} [minHeldAheadH]
 * @property {number} [maxHoldPastRuleSec] how much later than the rule allows a held call is due (0: exactly when it may)
 * @property {Record<string, number>} [dialsPerFrom]
 * @property {number} [worstPerNumberInOneSecond]
 * @property {number} [stranded]
 * @property {number} [disagreeing]
 */

const env = process.env;
const RATE = Number(env.FAULT_POINT_RATE ?? 5);
const TIMEOUT_S = Number(env.FAULT_POLICY_TIMEOUT_S ?? 300);
const POOL = ["+14155550101", "+14155550102", "+14155550103"];
const RULE = { count: 2, hours: 24 };
const MAX_ATTEMPTS = 3;
const RECIPIENTS = 10;
/** Both batches start this long after their upload, at one instant. */
const START_IN_S = 15;
const HOUR_MS = 3_600_000;

/** The 10 recipients, in a block of their own (+1 212 370 nnnn). */
function recipientsCsv() {
  const rows = ["phone_number"];
  for (let i = 0; i < RECIPIENTS; i++) rows.push(`+1212370${String(i).padStart(4, "0")}`);
  return `${rows.join("\n")}\n`;
}

/**
 * Every call of a batch, a page at a time.
 * @param {Api} api
 * @param {string} batchId
 * @returns {Promise<Call[]>}
 */
async function callsOf(api, batchId) {
  const calls = [];
  for (let page = 1; ; page++) {
    const { body } = await api.call("GET", `/v1/api/batch-calls/${batchId}/calls?page=${page}&limit=100`);
    calls.push(...body.calls);
    if (!body.pagination.hasNext) return calls;
  }
}

/**
 * Nothing can happen now: no call active, and each waiting one held at least an hour ahead.
 * @param {Call[]} calls
 */
function quiet(calls, now = Date.now()) {
  return calls.every((c) => c.status !== "active" && (c.status !== "waiting" || (c.nextAttemptAt !== null && Date.parse(c.nextAttemptAt) - now >= HOUR_MS)));
}

/**
 * The most starts one caller ID made within any one second.
 * @param {Attempt[]} attempts
 */
function worstInOneSecond(attempts) {
  /** @type {Map<string, number[]>} */
  const starts = new Map();
  for (const a of attempts) if (a.from && a.startTime !== null) starts.set(a.from, [...(starts.get(a.from) ?? []), a.startTime]);
  let worst = 0;
  for (const times of starts.values()) {
    times.sort((x, y) => x - y);
    // The gate's window: starts after now − 1 s.
    for (let i = 0, j = 0; i < times.length; i++) {
      while (Number(times[i]) - Number(times[j]) >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
  }
  return worst;
}

/**
 * @template T
 * @param {T[]} items
 * @param {(item: T) => string} key
 */
function countBy(items, key) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

/**
 * The `dial.gated` point: see the header.
 * @param {string} point
 * @param {number} seed
 * @param {Deps} deps
 * @returns {Promise<PolicyResult>}
 */
export async function policyPoint(point, seed, deps) {
  const { log } = deps;
  const remote = await deps.remoteAgent(deps.rng(seed), () => ({ status: "no_answer" }));
  const vars = { DEV_TIME_SCALE: "600" };
  let server = await startServer(log, deps.runtime, { vars: { ...vars, FAULT_KILL_POINT: point }, logLevel: "log", testScheduled: true });
  const base = {
    dir: server.dir,
    port: server.port,
    adminToken: server.adminToken,
    encryptionKey: server.encryptionKey,
    vars,
    logLevel: "log",
    testScheduled: true,
  };
  /** @type {PolicyResult} */
  const result = { point, seed, ok: false, failures: [] };
  try {
    let api = client(server.baseUrl, server.isUp, server.logPath, log);
    const engine = await deps.hasEngineView(api, server);
    const ws = (
      await api.call("POST", "/v1/admin/workspaces", {
        admin: server.adminToken,
        json: { name: `fault ${point}`, rateLimits: { callsPerSecond: RATE, maxConcurrentCalls: RATE * 3 }, contactPolicy: { maxAttempts: [RULE] } },
        expect: [201],
      })
    ).body;
    api.useKey(ws.apiKey, ws.workspaceId);
    const agent = (
      await api.call("POST", "/v1/api/agents", {
        json: {
          name: "remote pool",
          provider: "webhook",
          dialUrl: remote.url,
          fromNumbers: POOL,
          callerId: { strategy: "round_robin", perNumber: { callsPerSecond: 1 } },
        },
        expect: [201],
      })
    ).body;
    remote.state.secret = agent.signingSecret;

    // Two batches over the same numbers, due at one instant; the kill point's line is looked for after this offset.
    const offset = deps.logSize(server.logPath);
    const scheduledAt = new Date(Math.ceil((Date.now() + START_IN_S * 1000) / 1000) * 1000).toISOString();
    const smartCallbackConfig = JSON.stringify({ enabled: true, maxAttempts: MAX_ATTEMPTS, gaps: [{ minutes: 1 }] });
    /** @type {string[]} */
    const batchIds = [];
    for (const n of [1, 2]) {
      const form = { agentId: agent.agentId, file: recipientsCsv(), name: `fault ${point} ${n}`, scheduledAt, smartCallbackConfig };
      batchIds.push((await api.call("POST", "/v1/api/batch-calls", { form, expect: [201] })).body.batchId);
    }
    log(`${point}: batches ${batchIds.join(", ")} over the same ${RECIPIENTS} numbers, both due at ${scheduledAt}`);

    result.reached = await deps.killPointReached(server.logPath, offset, point, (START_IN_S + 60) * 1000, () => false);
    if (!result.reached) {
      result.failures.push(`no claim reached ${point} within ${START_IN_S + 60} s`);
      return result;
    }
    await server.crash();
    const killedAt = Date.now();
    result.dialsBeforeKill = remote.state.dialLog.length;
    log(`${point}: reached and killed (${result.dialsBeforeKill} dials so far)`);
    await sleep(1000);

    server = await startServer(log, deps.runtime, base);
    const restartedAt = Date.now();
    result.restartSec = Math.round((restartedAt - killedAt) / 100) / 10;
    api = client(server.baseUrl, server.isUp, server.logPath, log);
    api.useKey(ws.apiKey, ws.workspaceId);
    result.activeAfterRestart = (await Promise.all(batchIds.map((id) => callsOf(api, id)))).flat().filter((c) => c.status === "active").length;

    // The client's part: the cron once (wrangler's --test-scheduled route).
    try {
      const res = await fetch(`${server.baseUrl}/__scheduled`, { signal: AbortSignal.timeout(60_000) });
      await res.text();
      result.cron = res.status;
    } catch (err) {
      result.cron = `failed: ${/** @type {Error} */ (err).message}`;
    }
    if (result.cron !== 200) result.failures.push(`the cron could not be run: ${result.cron}`);

    // Until nothing more can happen now, and no dial arrives for 5 s after that.
    const read = async () => Promise.all(batchIds.map(async (batchId) => ({ batchId, calls: await callsOf(api, batchId) })));
    let batches = await read();
    const calls = () => batches.flatMap((b) => b.calls);
    result.recoverSec = null;
    while (Date.now() - restartedAt < TIMEOUT_S * 1000) {
      batches = await read();
      if (quiet(calls()) && remote.state.reportsPending === 0) {
        const settledAt = Date.now();
        const dials = remote.state.dialLog.length;
        await sleep(5000);
        batches = await read();
        if (quiet(calls()) && remote.state.dialLog.length === dials) {
          result.recoverSec = Math.round((settledAt - restartedAt) / 100) / 10;
          break;
        }
      }
      await sleep(1000);
    }
    if (result.recoverSec === null) {
      const left = calls()
        .filter((c) => !quiet([c]))
        .map((c) => `${c.jobId} ${c.status} ${c.nextAttemptAt ?? ""} ${c.waitReason ?? ""}`);
      result.failures.push(`still moving after ${TIMEOUT_S} s: ${left.slice(0, 3).join("; ")}${left.length > 3 ? ` and ${left.length - 3} more` : ""}`);
    }

    // Each call's attempts, both batches.
    /** @type {Detail[]} */
    const details = [];
    for (const { batchId, calls: own } of batches) {
      for (const call of own) {
        const { body } = await api.call("GET", `/v1/api/batch-calls/${batchId}/calls/${call.jobId}`);
        details.push({ call, history: body.attemptHistory, detailWaitReason: body.waitReason ?? null });
      }
    }
    Object.assign(
      result,
      judge(details, remote, Date.now(), (msg) => log(`${point}: ${msg}`)),
    );
    const views = await deps.engineViews(api, server, engine);
    if (engine && views.some((v) => v.stranded)) {
      // While an object's alarm handler runs its next alarm reads as none: stranded only if it still is a moment later.
      await sleep(1500);
      const again = await deps.engineViews(api, server, engine);
      for (const v of views) v.stranded &&= again.find((x) => x.id === v.id)?.stranded === true;
    }
    result.stranded = views.filter((v) => v.stranded === true).length;
    result.disagreeing = views.filter((v) => v.agree === false).length;
    const checks = /** @type {Check[]} */ (result.checks);
    checks.push(check("batches stranded", result.stranded, 0), check("summaries disagreeing with their object", result.disagreeing, 0));
    for (const c of checks) if (!c.pass) result.failures.push(`${c.name}: ${c.value} (at most ${c.max})`);
    result.ok = result.failures.length === 0;
    log(`${point}: ${JSON.stringify(result)}`);
    return result;
  } catch (e) {
    const err = /** @type {Error} */ (e);
    result.failures.push(`error: ${err.message.split("\n")[0]}`);
    log(`${point}: ${err.stack ?? err.message}`);
    return result;
  } finally {
    remote.close();
    await server.stop();
    deps.dropState(base.dir);
  }
}

/**
 * @param {string} name
 * @param {number} value
 * @param {number} max
 * @returns {Check}
 */
const check = (name, value, max) => ({ name, value, max, pass: value <= max });

/**
 * The figures and checks, from the batches' attempt histories and the remote agent's dials.
 * @param {Detail[]} details
 * @param {Remote} remote
 * @param {number} now
 * @param {(msg: string) => void} log
 */
function judge(details, remote, now, log) {
  const attempts = details.flatMap((d) => d.history.map((a) => ({ ...a, key: `${d.call.jobId}#${a.attempt}` })));
  const known = new Set(attempts.map((a) => a.key));
  const dialCounts = [...remote.state.dials.values()];
  const dialLog = remote.state.dialLog;
  const neverRang = attempts.filter((a) => !remote.state.dials.has(a.key));
  const perNumberDials = Object.values(countBy(dialLog, (d) => d.to));
  const attemptsOf = countBy(attempts, (a) => a.to);
  /** @type {Map<string, number>} */
  const firstStart = new Map();
  for (const a of attempts) if (a.startTime !== null) firstStart.set(a.to, Math.min(firstStart.get(a.to) ?? Infinity, a.startTime));

  const held = details.filter((d) => d.call.status === "waiting");
  const dueOf = (/** @type {Call} */ c) => (c.nextAttemptAt ? Date.parse(c.nextAttemptAt) : Number.NaN);
  const ruleFrom = (/** @type {Call} */ c) => (firstStart.get(c.phone_number) ?? Number.POSITIVE_INFINITY) + RULE.hours * HOUR_MS;
  const waitingWrong = held.filter((d) => d.call.waitReason !== "contact_policy" || !(dueOf(d.call) >= ruleFrom(d.call)));
  const heldUnderCount = held.filter((d) => d.call.waitReason === "contact_policy" && (attemptsOf[d.call.phone_number] ?? 0) < RULE.count);
  const terminal = details.filter((d) => d.call.status !== "waiting" && d.call.status !== "active");
  const endedEarly = terminal.filter((d) => d.call.attempts < MAX_ATTEMPTS || /polic/i.test(d.call.error ?? ""));
  const recordedFrom = new Map(attempts.map((a) => [a.key, a.from]));
  const foreignFrom = dialLog.filter((d) => !POOL.includes(d.from)).length + attempts.filter((a) => a.from !== null && !POOL.includes(a.from)).length;
  const fromDisagreeing = dialLog.filter((d) => recordedFrom.has(d.key) && recordedFrom.get(d.key) !== d.from).length;
  const figures = {
    dials: dialLog.length,
    attempts: attempts.length,
    attemptsNeverRang: neverRang.length,
    neverRangErrors: [...new Set(neverRang.map((a) => (a.error ?? "no error").slice(0, 120)))],
    maxDialsPerAttempt: Math.max(0, ...dialCounts),
    maxDialsPerNumber: Math.max(0, ...perNumberDials),
    maxAttemptsPerNumber: Math.max(0, ...Object.values(attemptsOf)),
    held: held.length,
    terminal: terminal.length,
    waitReasonsListed: countBy(held, (d) => String(d.call.waitReason)),
    waitReasonsInDetail: countBy(held, (d) => String(d.detailWaitReason)),
    minHeldAheadH: held.length ? Math.round(Math.min(...held.map((d) => dueOf(d.call) - now)) / 36_000) / 100 : 0,
    maxHoldPastRuleSec: held.length ? Math.round(Math.max(...held.map((d) => dueOf(d.call) - ruleFrom(d.call))) / 100) / 10 : 0,
    dialsPerFrom: countBy(dialLog, (d) => d.from),
    worstPerNumberInOneSecond: worstInOneSecond(attempts),
  };
  const unknownDials = [...remote.state.dials.keys()].filter((k) => !known.has(k)).length;
  const checks = [
    check("dials per recipient number, both batches (max)", figures.maxDialsPerNumber, RULE.count),
    check("attempts per recipient number, lost claims included (max)", figures.maxAttemptsPerNumber, RULE.count),
    check("dials per attempt (max)", figures.maxDialsPerAttempt, 1),
    check("dials of attempts the batches do not know", unknownDials, 0),
    check(`calls ended before their ${MAX_ATTEMPTS} attempts (failed by the policy)`, endedEarly.length, 0),
    check("waiting calls not held by contact_policy until first attempt + 24 h", waitingWrong.length, 0),
    check(`calls held while their number has < ${RULE.count} attempts (one counted twice)`, heldUnderCount.length, 0),
    check("caller IDs outside the pool (dialled or recorded)", foreignFrom, 0),
    check("dials whose From differs from the attempt's recorded caller ID", fromDisagreeing, 0),
    check("starts from one number within one second (max)", figures.worstPerNumberInOneSecond, 1),
  ];
  if (endedEarly.length) log(`ended early: ${endedEarly.map((d) => `${d.call.jobId} ${d.call.status} ${d.call.attempts} ${d.call.error}`).join("; ")}`);
  if (waitingWrong.length) {
    log(
      `held wrongly: ${waitingWrong.map((d) => `${d.call.jobId} ${d.call.waitReason} ${d.call.nextAttemptAt} (first ${firstStart.get(d.call.phone_number)})`).join("; ")}`,
    );
  }
  return { ...figures, checks };
}

/**
 * Prints the checks of each `dial.gated` result, one row each with pass or FAIL.
 * @param {{ point: string, checks?: Check[] }[]} results
 * @param {(cols: string[], rows: object[]) => void} table fault-test.mjs's
 */
export function policyTable(results, table) {
  for (const r of results) {
    if (r.point !== "dial.gated" || !r.checks) continue;
    table(
      ["dial.gated check", "value", "atMost", "result"],
      r.checks.map((c) => ({ "dial.gated check": c.name, value: c.value, atMost: c.max, result: c.pass ? "pass" : "FAIL" })),
    );
  }
}
