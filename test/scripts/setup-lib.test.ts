import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { describe, expect, it } from "vitest";
import { banner } from "../../scripts/lib/banner.mjs";
import type { SetupContext } from "../../scripts/lib/setup-context.mjs";
import { ensureSecrets } from "../../scripts/lib/setup-secrets.mjs";
import { parseCreatedDatabaseId, parseDeployedUrl, parseQueueNames, SetupError } from "../../scripts/lib/setup-wrangler.mjs";
import { readWranglerToml, setDatabaseId } from "../../scripts/lib/wrangler-toml.mjs";

/** The parts of `npm run setup:cloudflare` a run against the stand-in does not reach. */

const repoToml = readFileSync(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), "utf8");

describe("wrangler.toml", () => {
  it("reads the Worker's name and the D1, R2 and queue names it binds", () => {
    expect(readWranglerToml(repoToml)).toEqual({
      name: "batch-calls",
      d1: [{ binding: "DB", databaseName: "batch-calls", databaseId: "00000000-0000-0000-0000-000000000000", migrationsDir: "migrations" }],
      buckets: ["batch-calls-csv"],
      queues: ["call-jobs", "webhook-events", "call-jobs-dlq", "webhook-events-dlq"],
    });
  });

  it("does not read an [env.*] section's bindings", () => {
    const text = `name = "w"\n[[env.staging.d1_databases]]\nbinding = "DB"\ndatabase_name = "staging-db"\n`;
    expect(readWranglerToml(text).d1).toEqual([]);
  });

  it("changes only the database_id value, keeping comments; adds the line when there is none", () => {
    const text = `# top\n[[d1_databases]]\nbinding = "DB" # the binding\ndatabase_name = "a"\ndatabase_id = "old" # kept\n\n[[d1_databases]]\nbinding = "B"\ndatabase_name = "b"\n`;
    expect(setDatabaseId(text, "a", "new-id")).toBe(text.replace('"old" # kept', '"new-id" # kept'));
    expect(setDatabaseId(text, "b", "id-b")).toBe(text.replace('database_name = "b"\n', 'database_name = "b"\ndatabase_id = "id-b"\n'));
    expect(() => setDatabaseId(text, "c", "x")).toThrow('no [[d1_databases]] entry with database_name = "c"');
  });
});

describe("wrangler output", () => {
  it("takes the deployed origin from the targets after 'Deployed … triggers' only", () => {
    const before = 'env.TWILIO_API_BASE_URL ("https://api.twilio.com")\n  https://not-a-target.example\n';
    expect(parseDeployedUrl(`${before}Uploaded w (1 sec)\nDeployed w triggers (1 sec)\n  https://w.sub.workers.dev\n  schedule: * * * * *\n`)).toBe(
      "https://w.sub.workers.dev",
    );
    expect(parseDeployedUrl(`${before}Deployed w triggers (1 sec)\n  example.com/*\n`)).toBeNull();
    expect(parseDeployedUrl(`${before}No deploy targets for w (1 sec)\n`)).toBeNull();
  });

  it("reads a database id from a TOML or JSON snippet, and no queue from an empty table", () => {
    const id = "6f1c2b9e-0000-4000-8000-000000000001";
    expect(parseCreatedDatabaseId(`database_id = "${id}"`)).toBe(id);
    expect(parseCreatedDatabaseId(`{ "database_id": "${id}" }`)).toBe(id);
    expect(parseQueueNames("┌┐\n└┘")).toEqual([]);
  });

  // The stand-in copies these formats; a wrangler upgrade that changes one fails here, not on a user's account.
  it("matches what the installed wrangler prints", () => {
    const cli = readFileSync(fileURLToPath(new URL("../../node_modules/wrangler/wrangler-dist/cli.js", import.meta.url)), "utf8");
    for (const source of [
      "throw createFatalError({ loggedIn: false }, true);",
      "logger.log(JSON.stringify(dbs, null, 2));",
      "database_id: db.uuid",
      "name: bucket.name,",
      "name: queue.queue_name,",
      'logger.log(JSON.stringify(secrets, null, "  "));',
      '"\\u2705 No migrations to apply!"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: wrangler's source text, not a template of ours
      "logger.log(`Deployed ${workerName} triggers`, formatTime2(deployMs));",
      '(target) => (target.endsWith("workers.dev") ? "https://" : "") + target',
      'isInteractive4 ? await prompt("Enter a secret value:", { isSecret: true }) : await readFromStdin()',
    ]) {
      expect(cli, source).toContain(source);
    }
  });
});

function fakeContext(answers: string[], env: Record<string, string> = {}) {
  const calls: { args: string[]; input?: string }[] = [];
  const asked: string[] = [];
  const ctx: SetupContext = {
    dir: "/nowhere",
    print: () => {},
    wrangler: async (args, options = {}) => {
      calls.push({ args, input: options.input });
      return "";
    },
    ask: async (question) => {
      asked.push(question);
      return answers.shift() ?? "";
    },
    env,
    state: { adminToken: "known" },
    saveState: () => {},
    summary: { created: [], kept: [], skipped: [] },
  };
  return { ctx, calls, asked };
}

describe("secrets", () => {
  const set = new Set(["ADMIN_TOKEN", "SECRETS_ENCRYPTION_KEY", "PUBLIC_BASE_URL"]);

  it("asks for the Twilio pair on a terminal; Enter skips", async () => {
    const { ctx, calls, asked } = fakeContext(["AC999 ", ""]);
    await ensureSecrets(ctx, set, "https://x.example");
    expect(asked.map((q) => q.trim().split(" ")[0])).toEqual(["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]);
    expect(calls).toEqual([{ args: ["secret", "put", "TWILIO_ACCOUNT_SID"], input: "AC999" }]);
    expect(ctx.summary.skipped).toEqual(["secret TWILIO_AUTH_TOKEN (no value given)"]);
  });

  it("asks nothing for a pair that is set", async () => {
    const { ctx, calls, asked } = fakeContext(["never"]);
    await ensureSecrets(ctx, new Set([...set, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]), null);
    expect(asked).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("sets a given encryption key as it is, and refuses one that is not 32 bytes of base64", async () => {
    const key = Buffer.alloc(32, 1).toString("base64");
    const given = fakeContext([], { SECRETS_ENCRYPTION_KEY: key });
    await ensureSecrets(given.ctx, new Set(["ADMIN_TOKEN", "PUBLIC_BASE_URL"]), null);
    expect(given.calls[0]).toEqual({ args: ["secret", "put", "SECRETS_ENCRYPTION_KEY"], input: key });

    const short = fakeContext([], { SECRETS_ENCRYPTION_KEY: Buffer.alloc(16).toString("base64") });
    await expect(ensureSecrets(short.ctx, new Set(["ADMIN_TOKEN"]), null)).rejects.toThrow(SetupError);
    expect(short.calls).toEqual([]);
  });
});

describe("banner", () => {
  it("prints the curl that starts a batch from examples/people.csv", () => {
    const text = banner({ title: "t", baseUrl: "https://w.example", workspaceId: "ws_1", apiKey: "bck_k", agentId: "agent_1", adminToken: "a", footer: "f" });
    expect(text).toContain(
      'curl -s https://w.example/v1/api/batch-calls -H "x-api-key: bck_k" -H "x-workspace-id: ws_1" -F agentId=agent_1 -F "file=@examples/people.csv"',
    );
  });
});
