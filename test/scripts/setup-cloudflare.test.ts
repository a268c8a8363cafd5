import { readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { describe, expect, it } from "vitest";
import { banner } from "../../scripts/lib/banner.mjs";
import { type Call, emptyAccount, makeProject, type Project, runSetup, startFakeWorker } from "./setup-harness";

/** `npm run setup:cloudflare` against the stand-in wrangler (fake-wrangler.mjs) and a Worker played on 127.0.0.1. */

const QUEUES = ["call-jobs", "call-jobs-dlq", "webhook-events", "webhook-events-dlq"];
const repoToml = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
type Cleanup = (fn: () => void | Promise<void>) => void;

/** A project and a Worker of its own for each test (they run at once): removed when the test ends. */
async function setup(onFinished: Cleanup, account = emptyAccount(), workerOptions = {}) {
  const project = makeProject(account);
  onFinished(project.remove);
  const worker = await startFakeWorker(() => project.account().secrets.ADMIN_TOKEN, workerOptions);
  onFinished(worker.close);
  return { project, worker };
}

const cmd = (c: Call) => c.argv.join(" ");
const changes = (calls: Call[]) => calls.map(cmd).filter((c) => / create |^secret put /.test(c));
const local = (p: Project) => JSON.parse(readFileSync(p.localFile(), "utf8"));

describe.concurrent("setup:cloudflare", { timeout: 60_000 }, () => {
  it("makes everything on an empty account, and a second run makes nothing new", async ({ onTestFinished }) => {
    const repoBefore = readFileSync(repoToml, "utf8");
    const { project, worker } = await setup(onTestFinished);
    const env = { FAKE_WRANGLER_URL: worker.url };

    const first = await runSetup(project, { env });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const calls = project.calls();
    expect(changes(calls).sort()).toEqual(
      [
        "d1 create batch-calls",
        "r2 bucket create batch-calls-csv",
        ...QUEUES.map((q) => `queues create ${q}`),
        "secret put ADMIN_TOKEN",
        "secret put SECRETS_ENCRYPTION_KEY",
        "secret put PUBLIC_BASE_URL",
      ].sort(),
    );
    // Every call non-interactive; the database made before migrations and the deploy; secrets after it (a Worker must exist).
    expect(calls.every((c) => c.ci === "1")).toBe(true);
    const order = calls.map(cmd);
    expect(order.indexOf("d1 create batch-calls")).toBeLessThan(order.indexOf("d1 migrations apply DB --remote"));
    expect(order.indexOf("d1 migrations apply DB --remote")).toBeLessThan(order.indexOf("deploy"));
    expect(order.indexOf("deploy")).toBeLessThan(order.indexOf("secret put ADMIN_TOKEN"));

    const account = project.account();
    const uuid = account.databases[0]?.uuid ?? "";
    expect(account.migrations[uuid]?.length).toBeGreaterThan(0);
    expect(account.deploys).toBe(1);
    expect(account.secrets.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(account.secrets.SECRETS_ENCRYPTION_KEY ?? "", "base64")).toHaveLength(32);
    expect(account.secrets.PUBLIC_BASE_URL).toBe(worker.url);
    // Only the id line of the copy changed; the repo's own file is untouched.
    expect(project.toml()).toBe(repoBefore.replace('database_id = "00000000-0000-0000-0000-000000000000"', `database_id = "${uuid}"`));
    expect(readFileSync(repoToml, "utf8")).toBe(repoBefore);

    expect(worker.requests).toContain("GET /healthz");
    expect(worker.workspaces.size).toBe(1);
    const saved = local(project);
    expect(statSync(project.localFile()).mode & 0o777).toBe(0o600);
    expect(saved).toMatchObject({ url: worker.url, adminToken: account.secrets.ADMIN_TOKEN, workspaceId: [...worker.workspaces.keys()][0] });
    const box = banner({
      title: "batch-calls on Cloudflare",
      baseUrl: worker.url,
      workspaceId: saved.workspaceId,
      apiKey: saved.apiKey,
      agentId: saved.agentId,
      adminToken: "in .cloudflare.local.json",
      footer: "Kept in .cloudflare.local.json. Run this again at any time: it makes only what is missing.",
    });
    expect(first.stdout).toContain(box);
    expect(first.stdout).toContain(
      `curl -s ${worker.url}/v1/api/batch-calls -H "x-api-key: ${saved.apiKey}" -H "x-workspace-id: ${saved.workspaceId}" -F agentId=${saved.agentId}`,
    );

    project.clearCalls();
    const second = await runSetup(project, { env });
    expect(second.code).toBe(0);
    expect(changes(project.calls())).toEqual([]);
    expect(project.calls().map(cmd)).toContain("deploy");
    expect(project.account().secrets).toEqual(account.secrets);
    expect(project.toml()).toBe(repoBefore.replace('database_id = "00000000-0000-0000-0000-000000000000"', `database_id = "${uuid}"`));
    expect(worker.workspaces.size).toBe(1);
    expect(local(project)).toEqual(saved);
    expect(second.stdout).toContain(`"batch-calls" exists (id ${uuid})`);
    expect(second.stdout).toContain(`workspace ${saved.workspaceId} (from .cloudflare.local.json) exists`);
    expect(second.stdout).toContain("made or set now: nothing");
    expect(second.stdout).toContain(box);
  });

  it("on an account that has some of it, makes only the rest (queues found on a later page)", async ({ onTestFinished }) => {
    const account = emptyAccount();
    account.databases.push({ uuid: "11111111-2222-3333-4444-555555555555", name: "batch-calls" });
    account.buckets.push("other-bucket", "batch-calls-csv");
    account.queues.push("a", "b", "c", "d", "e", "call-jobs", "f");
    account.secrets = { ADMIN_TOKEN: "known-admin-token", SECRETS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") };
    account.worker = "deployed";
    const { project, worker } = await setup(onTestFinished, account);

    const run = await runSetup(project, { env: { FAKE_WRANGLER_URL: worker.url, ADMIN_TOKEN: "known-admin-token" } });
    expect(run.code).toBe(0);
    const made = changes(project.calls());
    expect(made.sort()).toEqual([
      "queues create call-jobs-dlq",
      "queues create webhook-events",
      "queues create webhook-events-dlq",
      "secret put PUBLIC_BASE_URL",
    ]);
    expect(project.calls().map(cmd)).toContain("queues list --page 2");
    expect(project.toml()).toContain('database_id = "11111111-2222-3333-4444-555555555555"');
    expect(project.account().secrets.SECRETS_ENCRYPTION_KEY).toBe(account.secrets.SECRETS_ENCRYPTION_KEY);
    expect(worker.workspaces.size).toBe(1);
    expect(run.stdout).toContain("SECRETS_ENCRYPTION_KEY: set already, kept (never replaced");
  });

  it("skips the workspace, saying how, when the Worker's ADMIN_TOKEN is not known here", async ({ onTestFinished }) => {
    const account = emptyAccount();
    account.worker = "deployed";
    account.secrets = { ADMIN_TOKEN: "someone-elses-token" };
    const { project, worker } = await setup(onTestFinished, account);

    const run = await runSetup(project, { env: { FAKE_WRANGLER_URL: worker.url } });
    expect(run.code).toBe(0);
    expect(changes(project.calls())).not.toContain("secret put ADMIN_TOKEN");
    expect(worker.requests.filter((r) => r.startsWith("POST"))).toEqual([]);
    expect(run.stdout).toContain("Run again with ADMIN_TOKEN=<the token> in the environment");
    expect(run.stdout).not.toContain("Start a batch:");
  });

  it("stops at once, saying to log in, when wrangler is not logged in", async ({ onTestFinished }) => {
    const { project } = await setup(onTestFinished, { ...emptyAccount(), loggedIn: false });
    const before = project.toml();
    const run = await runSetup(project);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Run `npx wrangler login`");
    expect(project.calls().map(cmd)).toEqual(["whoami --json"]);
    expect(project.toml()).toBe(before);
  });

  it("stops with wrangler's output when one of its commands fails, running nothing after it", async ({ onTestFinished }) => {
    const { project, worker } = await setup(onTestFinished);
    const run = await runSetup(project, { env: { FAKE_WRANGLER_URL: worker.url, FAKE_WRANGLER_FAIL: "queues create" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Authentication error [code: 10000]");
    expect(run.stderr).toContain("`wrangler queues create call-jobs` failed (exit 1); nothing after it was done.");
    expect(project.calls().map(cmd).at(-1)).toBe("queues create call-jobs");
    expect(worker.requests).toEqual([]);
  });

  it("sets PUBLIC_BASE_URL and the Twilio pair from the environment, and checks /healthz there", async ({ onTestFinished }) => {
    const { project, worker } = await setup(onTestFinished);
    const env = { PUBLIC_BASE_URL: `${worker.url}/`, TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tw-token " };
    const run = await runSetup(project, { env });
    expect(run.code).toBe(0);
    const secrets = project.account().secrets;
    expect(secrets).toMatchObject({ PUBLIC_BASE_URL: worker.url, TWILIO_ACCOUNT_SID: "AC123", TWILIO_AUTH_TOKEN: "tw-token" });
    expect(worker.requests).toContain("GET /healthz");
  });

  it("without Twilio values and no terminal, skips the pair with a note", async ({ onTestFinished }) => {
    const { project, worker } = await setup(onTestFinished);
    const run = await runSetup(project, { env: { FAKE_WRANGLER_URL: worker.url } });
    expect(run.code).toBe(0);
    expect(Object.keys(project.account().secrets)).not.toContain("TWILIO_ACCOUNT_SID");
    expect(run.stdout).toContain("TWILIO_ACCOUNT_SID: not set, skipped (only twilio agents need it");
  });

  it("waits for /healthz, and stops with a sentence when it never answers 200", async ({ onTestFinished }) => {
    const slow = await setup(onTestFinished, emptyAccount(), { unhealthyTimes: 1 });
    const ok = await runSetup(slow.project, { env: { FAKE_WRANGLER_URL: slow.worker.url }, args: ["--wait", "10"] });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("not yet (HTTP 503); trying again");

    const down = await setup(onTestFinished, emptyAccount(), { unhealthyTimes: 1000 });
    const run = await runSetup(down.project, { env: { FAKE_WRANGLER_URL: down.worker.url }, args: ["--wait", "0"] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${down.worker.url}/healthz did not answer 200 within 0 s (last: HTTP 503)`);
    expect(down.worker.workspaces.size).toBe(0);
  });

  it("makes a new workspace or agent when the one it remembers is gone, and stops on an admin token the Worker refuses", async ({ onTestFinished }) => {
    const { project, worker } = await setup(onTestFinished);
    const env = { FAKE_WRANGLER_URL: worker.url };
    expect((await runSetup(project, { env })).code).toBe(0);
    const first = local(project).workspaceId;
    worker.workspaces.clear(); // a new database: the workspace is gone

    const again = await runSetup(project, { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`workspace ${first} (from .cloudflare.local.json) is not on this Worker any more: making a new one`);
    expect(worker.workspaces.size).toBe(1);
    expect(local(project).workspaceId).not.toBe(first);

    const { workspaceId, agentId } = local(project);
    worker.workspaces.get(workspaceId)?.agents.splice(0); // the agent was deleted: a new one, in the same workspace
    const noAgent = await runSetup(project, { env });
    expect(noAgent.code).toBe(0);
    expect(noAgent.stdout).toContain(`agent ${agentId} is not in the workspace any more: making a new one`);
    expect(local(project)).toMatchObject({ workspaceId, agentId: worker.workspaces.get(workspaceId)?.agents[0] });
    expect(local(project).agentId).not.toBe(agentId);

    writeFileSync(project.localFile(), JSON.stringify({ ...local(project), adminToken: "stale" }));
    const refused = await runSetup(project, { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("answered 401");
    expect(refused.stderr).toContain("is not the Worker's: give the right one as ADMIN_TOKEN");
    expect(worker.workspaces.size).toBe(1);
  });

  it("refuses a plain-http public URL off this machine before running anything", async ({ onTestFinished }) => {
    const { project } = await setup(onTestFinished);
    const run = await runSetup(project, { args: ["--public-url", "http://calls.example.com"] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("must be an https:// URL (http only for localhost)");
    expect(project.calls()).toEqual([]);
  });
});
