import { exports } from "cloudflare:workers";

export const ADMIN = { authorization: "Bearer test-admin-token" };

export type TestWorkspace = { workspaceId: string; apiKey: string; keyId: string; agentId: string };

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://batch.test${path}`, init));
}

/**
 * A body's text, decoded here: workerd warns on every .text() of a body whose Content-Type
 * is not text (a form, ndjson), and a test run should print its report, not those.
 */
export async function bodyText(body: Request | Response): Promise<string> {
  return new TextDecoder().decode(await body.arrayBuffer());
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export function authHeaders(ws: Pick<TestWorkspace, "workspaceId" | "apiKey">): Record<string, string> {
  return { "x-api-key": ws.apiKey, "x-workspace-id": ws.workspaceId };
}

/** A fresh workspace with its own key and a simulated agent: tests share nothing. */
export async function newWorkspace(body: Record<string, unknown> = {}): Promise<TestWorkspace> {
  const res = await call("/v1/admin/workspaces", {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ name: "Test workspace", ...body }),
  });
  if (res.status !== 201) throw new Error(`workspace: ${res.status} ${await res.text()}`);
  const ws = await json(res);
  const agentRes = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Sim", provider: "simulated" }),
  });
  if (agentRes.status !== 201) throw new Error(`agent: ${agentRes.status} ${await agentRes.text()}`);
  const agent = await json(agentRes);
  return { workspaceId: ws.workspaceId, apiKey: ws.apiKey, keyId: ws.keyId, agentId: agent.agentId };
}

export function csvForm(csv: string | Blob | null, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  if (csv !== null) form.append("file", typeof csv === "string" ? new Blob([csv], { type: "text/csv" }) : csv, "people.csv");
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

/** A start time a day ahead: batches uploaded by tests stay still unless a test drives them. */
export const LATER = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Uploads a CSV; it is scheduled a day ahead unless `fields.scheduledAt` is given ("" = start now). */
export function upload(
  ws: TestWorkspace,
  csv: string | Blob | null,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return call("/v1/api/batch-calls", {
    method: "POST",
    headers: { ...authHeaders(ws), ...headers },
    body: csvForm(csv, { agentId: ws.agentId, scheduledAt: LATER, ...fields }),
  });
}

/** Valid US numbers (area code 212, exchange 555-01xx is fictional but valid in metadata). */
export function usNumber(i: number): string {
  return `+1212${String(2000000 + i).slice(0, 7)}`;
}

/** Calls the Worker with some bindings swapped, to inject failures at a chosen step. */
export async function callWithEnv(env: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const { default: worker } = await import("../src/index");
  const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://batch.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A D1 binding whose statements fail when `shouldFail(sql, nth)` says so (nth counts matching calls). */
export function failingDb(db: D1Database, shouldFail: (sql: string) => boolean): D1Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (sql: string) => {
          const stmt = target.prepare(sql);
          if (!shouldFail(sql)) return stmt;
          return new Proxy(stmt, {
            get(s, p) {
              if (p === "bind")
                return () => ({
                  run: () => Promise.reject(new Error("injected D1 failure")),
                  first: () => Promise.reject(new Error("injected D1 failure")),
                  all: () => Promise.reject(new Error("injected D1 failure")),
                });
              if (p === "run" || p === "first" || p === "all") return () => Promise.reject(new Error("injected D1 failure"));
              return Reflect.get(s, p);
            },
          });
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A workspace whose agent dials through the Twilio adapter (outbound HTTP is stubbed by the test). */
/** A valid US number no other workspace of this run holds: a number calls for one workspace only, and the tests of a file share D1. */
const FROM_BASE = 2_000_000 + Math.floor(Math.random() * 5_000_000);
let fromSeq = 0;
export const freshFromNumber = () => `+1415${FROM_BASE + fromSeq++}`;

export async function newTwilioWorkspace(
  limits = { callsPerSecond: 10, maxConcurrentCalls: 10 },
  fromNumber = freshFromNumber(),
): Promise<TestWorkspace & { fromNumber: string }> {
  const ws = await newWorkspace({ rateLimits: limits });
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Twilio", provider: "twilio", fromNumber, voiceUrl: "https://agent.example.test/voice" }),
  });
  const created = await json(res);
  if (res.status !== 201) throw new Error(`the test's twilio agent was refused: ${JSON.stringify(created)}`);
  return { ...ws, agentId: created.agentId, fromNumber };
}

/** A workspace whose agent dials through the webhook provider, with that agent's signing secret (outbound HTTP is stubbed by the test). */
export async function newWebhookWorkspace(limits = { callsPerSecond: 10, maxConcurrentCalls: 10 }): Promise<TestWorkspace & { secret: string }> {
  const ws = await newWorkspace({ rateLimits: limits });
  const res = await call("/v1/api/agents", {
    method: "POST",
    headers: { ...authHeaders(ws), "content-type": "application/json" },
    body: JSON.stringify({ name: "Hook", provider: "webhook", dialUrl: "https://dialer.example.com/dial" }),
  });
  if (res.status !== 201) throw new Error(`webhook agent: ${res.status} ${await res.text()}`);
  const agent = await json(res);
  return { ...ws, agentId: agent.agentId, secret: agent.signingSecret };
}

/** Polls `fn` every 100 ms (real time) until it answers something other than undefined; fails after `timeoutMs`, naming `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
