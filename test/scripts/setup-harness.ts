import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath, URL } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(repo, "scripts/setup-cloudflare.mjs");
const FAKE = join(repo, "test/scripts/fake-wrangler.mjs");

/** The stand-in's account (test/scripts/fake-wrangler.mjs FakeAccount). */
export type FakeAccount = {
  loggedIn: boolean;
  databases: { uuid: string; name: string }[];
  buckets: string[];
  queues: string[];
  secrets: Record<string, string>;
  worker: null | "draft" | "deployed";
  deploys: number;
  migrations: Record<string, string[]>;
};

export const emptyAccount = (): FakeAccount => ({
  loggedIn: true,
  databases: [],
  buckets: [],
  queues: [],
  secrets: {},
  worker: null,
  deploys: 0,
  migrations: {},
});

export type Call = { argv: string[]; stdin?: string; ci: string | null };

/**
 * A temp project (a copy of wrangler.toml and migrations/, never the repo's own), a bin dir whose
 * `wrangler` is the stand-in, and its account and call log.
 */
export function makeProject(account: FakeAccount) {
  const root = mkdtempSync(join(tmpdir(), "setup-cf-"));
  const dir = join(root, "project");
  const bin = join(root, "bin");
  mkdirSync(dir);
  mkdirSync(bin);
  cpSync(join(repo, "wrangler.toml"), join(dir, "wrangler.toml"));
  cpSync(join(repo, "migrations"), join(dir, "migrations"), { recursive: true });
  writeFileSync(join(bin, "wrangler"), `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`);
  chmodSync(join(bin, "wrangler"), 0o755);
  const statePath = join(root, "account.json");
  const logPath = join(root, "calls.jsonl");
  writeFileSync(statePath, JSON.stringify(account));
  return {
    root,
    dir,
    bin,
    statePath,
    logPath,
    account: (): FakeAccount => JSON.parse(readFileSync(statePath, "utf8")),
    setAccount: (a: FakeAccount) => writeFileSync(statePath, JSON.stringify(a)),
    /** The calls so far; `clearCalls` starts a new log (for a second run). */
    calls: (): Call[] =>
      existsSync(logPath)
        ? readFileSync(logPath, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
    clearCalls: () => rmSync(logPath, { force: true }),
    toml: () => readFileSync(join(dir, "wrangler.toml"), "utf8"),
    localFile: () => join(dir, ".cloudflare.local.json"),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
export type Project = ReturnType<typeof makeProject>;

/** Runs the script in the project with the stand-in first on PATH; a clean environment but for `env`. */
export function runSetup(project: Project, { args = [] as string[], env = {} as Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const childEnv: Record<string, string> = {
      PATH: `${project.bin}${delimiter}${process.env.PATH}`,
      HOME: project.root,
      FAKE_WRANGLER_STATE: project.statePath,
      FAKE_WRANGLER_LOG: project.logPath,
      ...env,
    };
    // (this project's NodeJS.ProcessEnv also lists the Worker's bindings, which a child process has no use for)
    const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: project.dir, env: childEnv as NodeJS.ProcessEnv, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.stdin.end();
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const alnum = (n: number) =>
  Array.from(randomBytes(n), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36])
    .join("")
    .slice(0, n);

/**
 * The deployed Worker, played on 127.0.0.1: /healthz and the admin and agent routes the script calls,
 * in the shapes of src/schemas/workspace.ts and agent.ts. The admin bearer is the ADMIN_TOKEN the stand-in
 * was given (`adminToken()`), as the real Worker reads its secret.
 */
export async function startFakeWorker(adminToken: () => string | undefined, { unhealthyTimes = 0 } = {}) {
  const workspaces = new Map<string, { name: string; apiKey: string; agents: string[] }>();
  const requests: string[] = [];
  let unhealthy = unhealthyTimes;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string) => send(res, status, { error: code, code, requestId: "req_test" });
  const readJson = async (req: IncomingMessage) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    return JSON.parse(text || "{}");
  };
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(`${req.method} ${path}`);
    if (path === "/healthz") return unhealthy-- > 0 ? error(res, 503, "unavailable") : send(res, 200, { ok: true });
    if (path.startsWith("/v1/admin/")) {
      const token = adminToken();
      if (!token) return error(res, 404, "not_found");
      if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, "unauthorized");
      if (req.method === "POST" && path === "/v1/admin/workspaces") {
        const { name } = await readJson(req);
        const workspaceId = `ws_${alnum(12)}`;
        const keyId = alnum(16);
        const apiKey = `bck_${keyId}_${alnum(24)}`;
        workspaces.set(workspaceId, { name, apiKey, agents: [] });
        const ws = {
          workspaceId,
          name,
          rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 10 },
          webhookUrl: null,
          timezone: null,
          createdAt: new Date().toISOString(),
        };
        return send(res, 201, { ...ws, apiKey, keyId: `key_${keyId}`, webhookSecret: "whsec_x" });
      }
      const id = /^\/v1\/admin\/workspaces\/([^/]+)$/.exec(path)?.[1];
      if (req.method === "GET" && id)
        return workspaces.has(id) ? send(res, 200, { workspaceId: id, name: workspaces.get(id)?.name }) : error(res, 404, "not_found");
    }
    const ws = workspaces.get(String(req.headers["x-workspace-id"]));
    if (path.startsWith("/v1/api/") && (!ws || ws.apiKey !== req.headers["x-api-key"])) return error(res, 401, "unauthorized");
    const agentId = /^\/v1\/api\/agents\/([^/]+)$/.exec(path)?.[1];
    if (ws && req.method === "GET" && agentId)
      return ws.agents.includes(agentId) ? send(res, 200, { agentId, provider: "simulated" }) : error(res, 404, "agent_not_found");
    if (ws && path === "/v1/api/agents") {
      const body = await readJson(req);
      if (req.method === "POST" && body.provider === "simulated" && body.name) {
        const newId = `agent_${alnum(12)}`;
        ws.agents.push(newId);
        return send(res, 201, { agentId: newId, name: body.name, provider: "simulated", signingSecret: "whsec_y" });
      }
    }
    return error(res, 404, "not_found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, workspaces, close: () => new Promise<void>((r) => server.close(() => r())) };
}
