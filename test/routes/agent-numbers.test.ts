import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Pool } from "../../src/domain/caller-id";
import type { WorkspaceLimiter } from "../../src/durable/workspace-limiter";
import { authHeaders, call, callWithEnv, json, newWorkspace, type TestWorkspace, upload, waitFor } from "../helpers";

/** Valid US numbers no other workspace of this run holds: a number calls for one workspace only, and the tests share D1. */
const BASE = 2_000_000 + Math.floor(Math.random() * 5_000_000);
let seq = 0;
const fresh = (n = 1) => Array.from({ length: n }, () => `+1646${BASE + seq++}`);

const send = (ws: TestWorkspace, method: string, path: string, body?: unknown) =>
  call(`/v1/api${path}`, {
    method,
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const create = (ws: TestWorkspace, body: Record<string, unknown>) => send(ws, "POST", "/agents", { name: "Pool", provider: "simulated", ...body });
const patch = (ws: TestWorkspace, agentId: string, body: unknown) => send(ws, "PATCH", `/agents/${agentId}`, body);
const get = async (ws: TestWorkspace, agentId: string) => json(await send(ws, "GET", `/agents/${agentId}`));
const numbers = async (ws: TestWorkspace, agentId: string) => json(await send(ws, "GET", `/agents/${agentId}/numbers`));
const rest = (ws: TestWorkspace, agentId: string, e164: string, enabled: unknown) => send(ws, "PATCH", `/agents/${agentId}/numbers/${e164}`, { enabled });

async function created(ws: TestWorkspace, body: Record<string, unknown>) {
  const res = await create(ws, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

async function stored(agentId: string) {
  const agent = await env.DB.prepare("SELECT from_number, caller_id FROM agents WHERE id = ?1")
    .bind(agentId)
    .first<{ from_number: string | null; caller_id: string | null }>();
  const { results } = await env.DB.prepare("SELECT e164, position, enabled FROM agent_numbers WHERE agent_id = ?1 ORDER BY position").bind(agentId).all();
  return { ...agent, numbers: results };
}

const agentCount = async (ws: TestWorkspace) => (await json(await send(ws, "GET", "/agents"))).agents.length;

describe("an agent's pool of numbers", () => {
  it("is created from fromNumbers, in order, all enabled; fromNumber is its first; GET and the list show it", async () => {
    const ws = await newWorkspace();
    const pool = fresh(3);
    const agent = await created(ws, { fromNumbers: pool });
    expect(agent).toMatchObject({ fromNumber: pool[0], fromNumbers: pool, callerId: null });
    expect(await get(ws, agent.agentId)).toMatchObject({ fromNumber: pool[0], fromNumbers: pool, callerId: null });
    expect(await stored(agent.agentId)).toEqual({
      from_number: pool[0],
      caller_id: null,
      numbers: pool.map((e164, position) => ({ e164, position, enabled: 1 })),
    });
    // the helper's agent has no number: [] and null, not missing
    expect(await get(ws, ws.agentId)).toMatchObject({ fromNumber: null, fromNumbers: [], callerId: null });
  });

  it("from fromNumber, in any common spelling, is a pool of one", async () => {
    const ws = await newWorkspace();
    const [n] = fresh();
    const spelled = `(${n!.slice(2, 5)}) ${n!.slice(5, 8)}-${n!.slice(8)}`;
    const agent = await created(ws, { fromNumber: spelled });
    expect(agent).toMatchObject({ fromNumber: n, fromNumbers: [n] });
    expect((await stored(agent.agentId)).numbers).toEqual([{ e164: n, position: 0, enabled: 1 }]);
  });

  it("takes callerId, stored with its defaults; {} is round-robin at 1 call/s per number", async () => {
    const ws = await newWorkspace();
    const local = await created(ws, { fromNumbers: fresh(2), callerId: { strategy: "local", perNumber: { maxCallsPerDay: 50 } } });
    const rules = { strategy: "local", perNumber: { callsPerSecond: 1, maxCallsPerDay: 50 } };
    expect(local.callerId).toEqual(rules);
    expect(JSON.parse((await stored(local.agentId)).caller_id!)).toEqual(rules);
    expect((await get(ws, local.agentId)).callerId).toEqual(rules);
    const plain = await created(ws, { callerId: {} });
    expect(plain.callerId).toEqual({ strategy: "round_robin", perNumber: { callsPerSecond: 1 } });
    expect((await created(ws, { callerId: null })).callerId).toBeNull();
  });

  it("a twilio agent may have a pool instead of fromNumber", async () => {
    const ws = await newWorkspace();
    const pool = fresh(2);
    const agent = await created(ws, { provider: "twilio", fromNumbers: pool, voiceUrl: "https://voice.example.com/twiml" });
    expect(agent).toMatchObject({ provider: "twilio", fromNumber: pool[0], fromNumbers: pool });
  });

  it("may share numbers between agents of one workspace", async () => {
    const ws = await newWorkspace();
    const pool = fresh(2);
    await created(ws, { fromNumbers: pool });
    expect((await created(ws, { fromNumbers: [pool[1], pool[0]] })).fromNumbers).toEqual([pool[1], pool[0]]);
  });

  it("may take a number a deleted agent of another workspace had; the deleted agent keeps its rows", async () => {
    const a = await newWorkspace();
    const b = await newWorkspace();
    const [n] = fresh();
    const old = await created(a, { fromNumbers: [n] });
    expect((await send(a, "DELETE", `/agents/${old.agentId}`)).status).toBe(200);
    expect((await stored(old.agentId)).numbers).toEqual([{ e164: n, position: 0, enabled: 1 }]);
    expect((await created(b, { fromNumbers: [n] })).fromNumbers).toEqual([n]);
  });

  it("lists every agent with its own pool, in order, from one query however many agents there are", async () => {
    const ws = await newWorkspace();
    const pools = [fresh(3), fresh(1), []];
    const ids: string[] = [];
    for (const p of pools) ids.push((await created(ws, p.length ? { fromNumbers: p } : {})).agentId);
    const gone = await created(ws, { fromNumbers: fresh(2) });
    await send(ws, "DELETE", `/agents/${gone.agentId}`);
    const { agents } = await json(await send(ws, "GET", "/agents"));
    expect(agents.map((a: { agentId: string }) => a.agentId)).toEqual([...ids].reverse().concat(ws.agentId));
    for (const [i, id] of ids.entries()) {
      expect(agents.find((a: { agentId: string }) => a.agentId === id)).toMatchObject({ fromNumbers: pools[i], fromNumber: pools[i]![0] ?? null });
    }

    // Statements the list prepares: the same for 1 agent as for 5.
    const counted = async (w: TestWorkspace) => {
      let prepared = 0;
      const db = new Proxy(env.DB, {
        get(target, prop) {
          if (prop === "prepare") prepared++;
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const res = await callWithEnv({ ...env, DB: db }, "/v1/api/agents", { headers: authHeaders(w) });
      expect(res.status).toBe(200);
      return prepared;
    };
    const alone = await newWorkspace();
    expect(await counted(ws)).toBe(await counted(alone));
  });
});

describe("a pool that is refused (400, nothing created)", () => {
  const bad: [string, (ws: TestWorkspace) => Record<string, unknown>, string][] = [
    ["a number without +", () => ({ fromNumbers: [fresh()[0], fresh()[0]!.slice(1)] }), "fromNumbers.1: must be a valid number in E.164"],
    ["a number with spaces", () => ({ fromNumbers: ["+1 646 555 0100"] }), "fromNumbers.0: must be a valid number in E.164 (+ and digits, no spaces)"],
    ["a number too short to exist", () => ({ fromNumbers: ["+1646555010"] }), "fromNumbers.0: must be a valid number in E.164"],
    ["an empty string", () => ({ fromNumbers: [""] }), "fromNumbers.0: must be a valid number"],
    ["a number as a number", () => ({ fromNumbers: [16465550100] }), "fromNumbers.0"],
    ["a string instead of a list", () => ({ fromNumbers: "+16465550100" }), "fromNumbers: must be a list of E.164 numbers"],
    ["an empty list", () => ({ fromNumbers: [] }), "fromNumbers: needs 1 to 1,000 numbers; leave it out for none"],
    ["1,001 numbers", () => ({ fromNumbers: fresh(1001) }), "fromNumbers: at most 1,000 numbers (got 1001)"],
    [
      "both fromNumber and fromNumbers",
      () => ({ fromNumber: fresh()[0], fromNumbers: fresh(1) }),
      "send fromNumber (one number) or fromNumbers (a pool), not both",
    ],
    [
      "a twilio agent without numbers",
      () => ({ provider: "twilio", voiceUrl: "https://voice.example.com/twiml" }),
      "provider: a twilio agent needs a number to call from (fromNumber, or fromNumbers for a pool) and voiceUrl",
    ],
    ["an unknown strategy", () => ({ callerId: { strategy: "nearest" } }), "callerId: strategy: Invalid option"],
    [
      "0 calls per second",
      () => ({ callerId: { perNumber: { callsPerSecond: 0 } } }),
      "callerId.perNumber.callsPerSecond: Too small: expected number to be >=1",
    ],
    [
      "101 calls per second",
      () => ({ callerId: { perNumber: { callsPerSecond: 101 } } }),
      "callerId.perNumber.callsPerSecond: Too big: expected number to be <=100",
    ],
    ["1.5 calls per second", () => ({ callerId: { perNumber: { callsPerSecond: 1.5 } } }), "callerId: perNumber.callsPerSecond"],
    ["0 calls a day", () => ({ callerId: { perNumber: { maxCallsPerDay: 0 } } }), "callerId.perNumber.maxCallsPerDay: Too small"],
    ["an unknown callerId key", () => ({ callerId: { strategy: "local", rotate: true } }), "callerId"],
    ["callerId as text", () => ({ callerId: "local" }), "callerId: must be an object ({strategy?, perNumber?}) or null"],
  ];
  it.each(bad)("%s", async (_name, body, words) => {
    const ws = await newWorkspace();
    const res = await create(ws, body(ws));
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(words) });
    expect(await agentCount(ws)).toBe(1);
  });

  it("a number listed twice, naming it and both places", async () => {
    const ws = await newWorkspace();
    const [a, b] = fresh(2);
    const res = await create(ws, { fromNumbers: [a, b, a] });
    expect(await json(res)).toMatchObject({
      code: "validation_failed",
      error: expect.stringContaining(`fromNumbers.2: ${a} is listed twice (also at index 0)`),
    });
    expect(await agentCount(ws)).toBe(1);
  });

  it("a number of another workspace's agent, in fromNumbers or as fromNumber, without naming that workspace", async () => {
    const owner = await newWorkspace();
    const ws = await newWorkspace();
    const [mine, theirs] = fresh(2);
    await created(owner, { fromNumbers: [theirs] });
    const res = await create(ws, { fromNumbers: [mine, theirs] });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({
      code: "validation_failed",
      error: expect.stringContaining(`fromNumbers.1: ${theirs} belongs to an agent of another workspace`),
    });
    expect(body.error).not.toContain(owner.workspaceId);
    const single = await create(ws, { fromNumber: theirs });
    expect(await json(single)).toMatchObject({ error: expect.stringContaining(`fromNumber: ${theirs} belongs to an agent of another workspace`) });
    expect(await agentCount(ws)).toBe(1);
    const { results } = await env.DB.prepare("SELECT workspace_id FROM agent_numbers WHERE e164 = ?1").bind(mine).all();
    expect(results).toEqual([]); // the pool's other number was not written either
  });
});

/**
 * A D1 whose check "is a number another workspace's?" answers "no" (the first `blind` times,
 * or always): the write's own guard is then all that stands between two workspaces and one number.
 */
function blindCheck(blind = Infinity): D1Database {
  let checks = 0;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) =>
          sql.includes("SELECT DISTINCT n.e164") && checks++ < blind
            ? target.prepare("SELECT NULL AS e164 WHERE 0 AND ?1 IS NOT NULL AND ?2 IS NOT NULL")
            : target.prepare(sql);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a number another workspace takes while the request runs", () => {
  const post = (ws: TestWorkspace, db: D1Database, body: unknown) =>
    callWithEnv({ ...env, DB: db }, "/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ name: "Late", provider: "simulated", ...(body as object) }),
    });

  it("is refused by the write itself: a 400 naming it, and nothing written", async () => {
    const owner = await newWorkspace();
    const ws = await newWorkspace();
    const [mine, theirs] = fresh(2);
    await created(owner, { fromNumbers: [theirs] });
    const res = await post(ws, blindCheck(1), { fromNumbers: [mine, theirs] });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: expect.stringContaining(`fromNumbers.1: ${theirs} belongs to an agent of another workspace`) });
    expect(await agentCount(ws)).toBe(1);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM agent_numbers WHERE e164 = ?1").bind(mine).first<{ n: number }>())!.n).toBe(0);
  });

  it("and released again before the answer: a 409 asking to send it again, nothing written", async () => {
    const owner = await newWorkspace();
    const ws = await newWorkspace();
    const [theirs] = fresh();
    await created(owner, { fromNumbers: [theirs] });
    const res = await post(ws, blindCheck(), { fromNumbers: [theirs] });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ code: "invalid_transition", error: expect.stringContaining("send it again") });
    expect(await agentCount(ws)).toBe(1);
    // a change is guarded the same way, and leaves the agent as it was
    const agent = await created(ws, { fromNumbers: fresh(1) });
    const before = await stored(agent.agentId);
    const change = await callWithEnv({ ...env, DB: blindCheck() }, `/v1/api/agents/${agent.agentId}`, {
      method: "PATCH",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ name: "Renamed", fromNumbers: [theirs] }),
    });
    expect(change.status).toBe(409);
    expect(await stored(agent.agentId)).toEqual(before);
    expect((await get(ws, agent.agentId)).name).toBe("Pool");
  });
});

describe("PATCH an agent's pool and caller id", () => {
  it("fromNumbers replaces the pool in the new order; numbers that stay keep their enabled flag", async () => {
    const ws = await newWorkspace();
    const [a, b, c, d] = fresh(4);
    const agent = await created(ws, { fromNumbers: [a, b, c] });
    expect((await rest(ws, agent.agentId, b!, false)).status).toBe(200);
    const res = await patch(ws, agent.agentId, { fromNumbers: [c, b, d] });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ fromNumber: c, fromNumbers: [c, b, d] });
    expect(await stored(agent.agentId)).toMatchObject({
      from_number: c,
      numbers: [
        { e164: c, position: 0, enabled: 1 },
        { e164: b, position: 1, enabled: 0 },
        { e164: d, position: 2, enabled: 1 },
      ],
    });
    expect((await get(ws, agent.agentId)).fromNumbers).toEqual([c, b, d]);
  });

  it("fromNumber makes it a pool of one; null or [] empties it; a change without either keeps it", async () => {
    const ws = await newWorkspace();
    const [a, b, c] = fresh(3);
    const agent = await created(ws, { fromNumbers: [a, b] });
    expect(await json(await patch(ws, agent.agentId, { name: "Renamed" }))).toMatchObject({ fromNumbers: [a, b] });
    expect(await json(await patch(ws, agent.agentId, { fromNumber: c }))).toMatchObject({ fromNumber: c, fromNumbers: [c] });
    expect(await json(await patch(ws, agent.agentId, { fromNumber: null }))).toMatchObject({ fromNumber: null, fromNumbers: [] });
    expect((await stored(agent.agentId)).numbers).toEqual([]);
    await patch(ws, agent.agentId, { fromNumbers: [a] });
    expect(await json(await patch(ws, agent.agentId, { fromNumbers: [] }))).toMatchObject({ fromNumber: null, fromNumbers: [] });
  });

  it("callerId is set with its defaults and cleared with null", async () => {
    const ws = await newWorkspace();
    const agent = await created(ws, { fromNumbers: fresh(1) });
    const set = await json(await patch(ws, agent.agentId, { callerId: { strategy: "local" } }));
    expect(set.callerId).toEqual({ strategy: "local", perNumber: { callsPerSecond: 1 } });
    expect((await stored(agent.agentId)).caller_id).toBe(JSON.stringify(set.callerId));
    expect((await json(await patch(ws, agent.agentId, { callerId: null }))).callerId).toBeNull();
    expect((await stored(agent.agentId)).caller_id).toBeNull();
  });

  it("tells the workspace's limiter at once: a pool it had read is read again", async () => {
    const ws = await newWorkspace();
    const [a, b] = fresh(2);
    const agent = await created(ws, { fromNumbers: [a] });
    const limiter = env.WORKSPACE_LIMITER.getByName(ws.workspaceId);
    // The limiter's own read of the pool (kept for a few seconds); a private method, reached on purpose.
    const poolSeen = () =>
      runInDurableObject(limiter, (l: WorkspaceLimiter) =>
        (l as unknown as { pool(w: string, id: string): Promise<Pool | null> }).pool(ws.workspaceId, agent.agentId),
      );
    expect((await poolSeen())?.numbers).toEqual([{ e164: a, enabled: true }]);
    await patch(ws, agent.agentId, { fromNumbers: [a, b], callerId: { strategy: "local" } });
    expect(await poolSeen()).toMatchObject({
      numbers: [
        { e164: a, enabled: true },
        { e164: b, enabled: true },
      ],
      callerId: { strategy: "local" },
    });
    await rest(ws, agent.agentId, a!, false);
    expect((await poolSeen())?.numbers[0]).toEqual({ e164: a, enabled: false });
  });

  const refused: [string, (own: string[], theirs: string) => unknown, string][] = [
    ["both fields", (own) => ({ fromNumber: own[0], fromNumbers: own }), "not both"],
    ["a duplicate", (own) => ({ fromNumbers: [own[0], own[0]] }), `fromNumbers.1: `],
    ["a number of another workspace", (own, theirs) => ({ fromNumbers: [own[0], theirs] }), "fromNumbers.1: "],
    ["another workspace's number as fromNumber", (_own, theirs) => ({ fromNumber: theirs }), "fromNumber: "],
    ["1,001 numbers", () => ({ fromNumbers: fresh(1001) }), "at most 1,000 numbers"],
    ["a number that is not E.164", () => ({ fromNumbers: ["646-555-0100"] }), "fromNumbers.0: must be a valid number in E.164"],
    ["a bad callerId", () => ({ callerId: { strategy: "local", perNumber: { callsPerSecond: -1 } } }), "perNumber.callsPerSecond: Too small"],
  ];
  it.each(refused)("refuses %s with a 400, and changes nothing", async (_name, body, words) => {
    const owner = await newWorkspace();
    const ws = await newWorkspace();
    const [theirs] = fresh();
    await created(owner, { fromNumbers: [theirs] });
    const own = fresh(2);
    const agent = await created(ws, { fromNumbers: own });
    const before = await stored(agent.agentId);
    const res = await patch(ws, agent.agentId, body(own, theirs!));
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.stringContaining(words) });
    expect(await stored(agent.agentId)).toEqual(before);
  });
});

describe("GET /v1/api/agents/{agentId}/numbers", () => {
  it("shows each number in order, enabled, with no attempts yet", async () => {
    const ws = await newWorkspace();
    const pool = fresh(2);
    const agent = await created(ws, { fromNumbers: pool });
    expect(await numbers(ws, agent.agentId)).toEqual({
      numbers: pool.map((e164, position) => ({
        e164,
        enabled: true,
        position,
        attempts24h: 0,
        answerRate24h: null,
        attempts7d: 0,
        answerRate7d: null,
        lastStartAt: null,
      })),
    });
    expect(await numbers(ws, ws.agentId)).toEqual({ numbers: [] });
  });

  it("counts the attempts a batch started from each number, and the share answered", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 10, maxConcurrentCalls: 10 } });
    const pool = fresh(2);
    const agent = await created(ws, { fromNumbers: pool });
    // The simulated provider answers numbers ending 0–4 (5 is voicemail, 6–9 are not answered).
    const people = ["phone_number", ...Array.from({ length: 10 }, (_, d) => `+121255520${d}${d}`)].join("\n");
    const started = Date.now();
    const res = await upload({ ...ws, agentId: agent.agentId }, people, { scheduledAt: "" });
    expect(res.status).toBe(201);
    const { batchId } = await json(res);
    await waitFor("the batch to complete", async () => {
      const s = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
      return s.isComplete ? s : undefined;
    });
    const { numbers: list } = await numbers(ws, agent.agentId);
    expect(list.map((n: { e164: string }) => n.e164)).toEqual(pool);
    expect(list.reduce((sum: number, n: { attempts24h: number }) => sum + n.attempts24h, 0)).toBe(10);
    // 5 answered by a person (6 if a voicemail counts), whichever numbers placed them
    const answered = list.reduce((sum: number, n: { attempts24h: number; answerRate24h: number }) => sum + Math.round(n.answerRate24h * n.attempts24h), 0);
    expect([5, 6]).toContain(answered);
    for (const n of list) {
      expect(n.attempts24h).toBeGreaterThan(0); // round-robin: both numbers called
      expect(n.attempts7d).toBe(n.attempts24h);
      expect(n.answerRate24h).toBeGreaterThan(0);
      expect(n.answerRate24h).toBeLessThanOrEqual(1);
      expect(n.answerRate24h).toBe(Number(n.answerRate24h.toFixed(3)));
      expect(n.answerRate7d).toBe(n.answerRate24h);
      expect(Date.parse(n.lastStartAt)).toBeGreaterThanOrEqual(started - 1000);
    }
  });

  it("is 404 for an unknown agent, a deleted one and another workspace's", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const agent = await created(ws, { fromNumbers: fresh(1) });
    for (const [w, id] of [
      [ws, "agent_nope"],
      [other, agent.agentId],
    ] as const) {
      const res = await send(w, "GET", `/agents/${id}/numbers`);
      expect(res.status).toBe(404);
      expect(await json(res)).toMatchObject({ code: "agent_not_found" });
    }
    await send(ws, "DELETE", `/agents/${agent.agentId}`);
    expect((await send(ws, "GET", `/agents/${agent.agentId}/numbers`)).status).toBe(404);
  });
});

describe("PATCH /v1/api/agents/{agentId}/numbers/{e164}", () => {
  it("rests and wakes a number, with the path's + as it is or as %2B, and answers with its entry", async () => {
    const ws = await newWorkspace();
    const [a, b] = fresh(2);
    const agent = await created(ws, { fromNumbers: [a, b] });
    const res = await rest(ws, agent.agentId, encodeURIComponent(b!), false);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      e164: b,
      enabled: false,
      position: 1,
      attempts24h: 0,
      answerRate24h: null,
      attempts7d: 0,
      answerRate7d: null,
      lastStartAt: null,
    });
    expect((await numbers(ws, agent.agentId)).numbers.map((n: { enabled: boolean }) => n.enabled)).toEqual([true, false]);
    expect(await json(await rest(ws, agent.agentId, b!, true))).toMatchObject({ e164: b, enabled: true });
    // Resting every number is allowed: the agent's calls then wait for one.
    expect((await rest(ws, agent.agentId, a!, false)).status).toBe(200);
    expect((await rest(ws, agent.agentId, b!, false)).status).toBe(200);
    expect((await stored(agent.agentId)).numbers.map((n: Record<string, unknown>) => n.enabled)).toEqual([0, 0]);
  });

  it("is 404 for a number not in the pool, an unknown agent, a deleted one and another workspace's", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const [a, stranger] = fresh(2);
    const agent = await created(ws, { fromNumbers: [a] });
    const notInPool = await rest(ws, agent.agentId, stranger!, false);
    expect(notInPool.status).toBe(404);
    expect(await json(notInPool)).toMatchObject({
      code: "not_found",
      error: expect.stringContaining(`${stranger} is not one of agent ${agent.agentId}'s numbers`),
    });
    const cross = await rest(other, agent.agentId, a!, false);
    expect(cross.status).toBe(404);
    expect(await json(cross)).toMatchObject({ code: "agent_not_found" });
    expect((await rest(ws, "agent_nope", a!, false)).status).toBe(404);
    expect((await stored(agent.agentId)).numbers).toEqual([{ e164: a, position: 0, enabled: 1 }]);
    await send(ws, "DELETE", `/agents/${agent.agentId}`);
    expect((await rest(ws, agent.agentId, a!, false)).status).toBe(404);
    expect((await stored(agent.agentId)).numbers).toEqual([{ e164: a, position: 0, enabled: 1 }]);
  });

  const refused: [string, (e164: string) => [string, unknown], string][] = [
    ["a path that is not E.164", () => ["6465550100", { enabled: false }], "The number in the path must be in E.164"],
    ["a broken escape in the path", () => ["%2", { enabled: false }], "E.164"],
    ["enabled as text", (n) => [n, { enabled: "no" }], "enabled"],
    ["no enabled", (n) => [n, {}], "enabled"],
    ["another field", (n) => [n, { enabled: false, position: 0 }], "unknown field position; a number's change names only enabled"],
  ];
  it.each(refused)("refuses %s with a 400, and changes nothing", async (_name, input, words) => {
    const ws = await newWorkspace();
    const [a] = fresh();
    const agent = await created(ws, { fromNumbers: [a] });
    const [path, body] = input(a!);
    const res = await send(ws, "PATCH", `/agents/${agent.agentId}/numbers/${path}`, body);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: expect.stringContaining(words) });
    expect((await stored(agent.agentId)).numbers).toEqual([{ e164: a, position: 0, enabled: 1 }]);
  });
});

describe("OpenAPI for number pools", () => {
  it("documents fromNumbers, callerId, the numbers routes, and what resting every number does", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    const create = doc.components.schemas.CreateAgent.properties;
    expect(create.fromNumbers.description).toContain("1 to 1,000 E.164 numbers");
    expect(create.callerId.description).toContain("round-robin with no per-number limit");
    expect(doc.components.schemas.Agent.required).toEqual(expect.arrayContaining(["fromNumbers", "callerId"]));
    expect(doc.components.schemas.CallerId).toBeDefined();
    const list = doc.paths["/v1/api/agents/{agentId}/numbers"].get;
    expect(Object.keys(list.responses)).toEqual(expect.arrayContaining(["200", "401", "404"]));
    const one = doc.paths["/v1/api/agents/{agentId}/numbers/{e164}"].patch;
    expect(one.description).toContain("no_enabled_number");
    expect(Object.keys(one.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404"]));
    expect(doc.components.schemas.PoolNumber.properties.answerRate24h.description).toContain("3 decimals");
  });
});
