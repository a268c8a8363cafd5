// @ts-check
/**
 * `npm run setup:cloudflare`: everything the service needs on a Cloudflare account, in one
 * re-runnable pass. Each step says what it is about to do and looks before it makes anything,
 * so a second run creates nothing that exists (it deploys again: the code may have changed).
 *
 *   1. wrangler whoami                   logged in? (if not: `npx wrangler login`, and stop)
 *   2. D1, R2 bucket, queues             as wrangler.toml names them; the D1 id is written into wrangler.toml
 *   3. d1 migrations apply --remote      whatever migrations/ holds that the database has not had
 *   4. wrangler deploy                   prints the workers.dev origin
 *   5. secrets                           ADMIN_TOKEN, SECRETS_ENCRYPTION_KEY (generated unless given in the
 *                                        environment), PUBLIC_BASE_URL (--public-url, else the deployed origin),
 *                                        TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN (environment, or asked; Enter skips)
 *   6. GET /healthz, then the first workspace, API key and simulated agent, and the same banner as `npm start`
 *
 * What it makes and must find again (origin, admin token, workspace id, API key, agent id) is kept in
 * .cloudflare.local.json (mode 600, git-ignored). SECRETS_ENCRYPTION_KEY is never replaced once set.
 * wrangler is the one on PATH (npm run puts node_modules/.bin there).
 *
 * Options:
 *   --yes               ask nothing (also when stdin is not a terminal): Twilio secrets then come from the environment only
 *   --dir <path>        the project directory (wrangler.toml, migrations/); default: the current one
 *   --name <name>       the first workspace's name; default "Default workspace"
 *   --public-url <url>  PUBLIC_BASE_URL (or that environment variable); default: the deployed workers.dev origin
 *   --wait <seconds>    how long to wait for /healthz to answer; default 120
 *   --help
 */
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { banner } from "./lib/banner.mjs";
import { loadState, STATE_FILE, saveState, say, step } from "./lib/setup-context.mjs";
import { applyMigrations, checkLogin, deploy, ensureBuckets, ensureDatabases, ensureQueues } from "./lib/setup-resources.mjs";
import { ensureSecrets, listSecrets } from "./lib/setup-secrets.mjs";
import { SetupError, wranglerRunner } from "./lib/setup-wrangler.mjs";
import { ensureWorkspace, waitForHealth } from "./lib/setup-workspace.mjs";
import { readWranglerToml } from "./lib/wrangler-toml.mjs";

const USAGE = `Usage: npm run setup:cloudflare -- [--yes] [--dir <path>] [--name <workspace name>] [--public-url <url>] [--wait <seconds>]
Sets up D1, R2, queues, secrets, the deploy and a first workspace on your Cloudflare account; safe to run again.`;

/**
 * An origin the script may call: https, or http on this machine only.
 * @param {string} value
 * @param {string} what
 */
function checkedOrigin(value, what) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new SetupError(`${what} is not a URL: ${value}`);
  }
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local))
    throw new SetupError(`${what} must be an https:// URL (http only for localhost): ${value}`);
  return url.href.replace(/\/+$/, "");
}

/** @param {import("./lib/setup-context.mjs").SetupContext} ctx */
function printSummary(ctx) {
  step(ctx, "Summary");
  const { created, kept, skipped } = ctx.summary;
  say(ctx, `made or set now: ${created.join(", ") || "nothing"}`);
  say(ctx, `already there:   ${kept.join(", ") || "nothing"}`);
  if (skipped.length) say(ctx, `left out:        ${skipped.join("; ")}`);
  say(ctx, `${STATE_FILE} (mode 600, git-ignored) holds the admin token, workspace id, API key and agent id; keep it private.`);
}

const OPTIONS = /** @type {const} */ ({
  yes: { type: "boolean", short: "y" },
  dir: { type: "string" },
  name: { type: "string" },
  "public-url": { type: "string" },
  wait: { type: "string" },
  help: { type: "boolean", short: "h" },
});

async function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (err) {
    throw new SetupError(`${/** @type {Error} */ (err).message}\n${USAGE}`);
  }
  if (values.help) return console.log(USAGE);
  const dir = resolve(values.dir ?? process.cwd());
  const tomlPath = join(dir, "wrangler.toml");
  if (!existsSync(tomlPath)) throw new SetupError(`No wrangler.toml in ${dir}: run this from the project's directory, or give --dir.`);
  const givenUrl = values["public-url"] ?? process.env.PUBLIC_BASE_URL;
  const publicUrl = givenUrl ? checkedOrigin(givenUrl, "--public-url / PUBLIC_BASE_URL") : null;
  const wait = Number(values.wait ?? 120);
  if (!Number.isFinite(wait) || wait < 0) throw new SetupError(`--wait must be a number of seconds, not ${values.wait}.`);
  const names = readWranglerToml(readFileSync(tomlPath, "utf8"));
  if (!names.name) throw new SetupError(`${tomlPath} has no top-level name = "…": the Worker needs one.`);

  const rl = !values.yes && process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stdout }) : null;
  // A direct `node scripts/setup-cloudflare.mjs` finds the project's wrangler too; one earlier on PATH wins.
  const binDir = fileURLToPath(new URL("../node_modules/.bin", import.meta.url));
  const env = { ...process.env, PATH: `${process.env.PATH ?? ""}${delimiter}${binDir}` };
  const state = loadState(dir);
  /** @type {import("./lib/setup-context.mjs").SetupContext} */
  const ctx = {
    dir,
    print: (line) => console.log(line),
    wrangler: wranglerRunner({ cwd: dir, env, print: (line) => console.log(line) }),
    ask: rl ? (question) => rl.question(question) : null,
    env: process.env,
    state,
    saveState: () => saveState(dir, state),
    summary: { created: [], kept: [], skipped: [] },
  };
  try {
    console.log(`Setting up Worker "${names.name}" on Cloudflare from ${dir}.`);
    console.log("Each step says what it is about to do; whatever already exists is left as it is.");
    await checkLogin(ctx);
    await ensureDatabases(ctx, tomlPath);
    await ensureBuckets(ctx, names.buckets);
    await ensureQueues(ctx, names.queues);
    await applyMigrations(
      ctx,
      names.d1.map((db) => db.binding),
    );
    const deployed = await deploy(ctx);
    const baseUrl = publicUrl ?? (deployed && checkedOrigin(deployed, "The deployed URL"));
    if (baseUrl && baseUrl !== state.url) {
      state.url = baseUrl;
      ctx.saveState();
    }
    const adminToken = await ensureSecrets(ctx, await listSecrets(ctx), baseUrl);
    if (!baseUrl) throw new SetupError("wrangler deploy printed no workers.dev URL (routes only?): give the Worker's origin with --public-url and run again.");
    await waitForHealth(ctx, baseUrl, wait);
    const ws = await ensureWorkspace(ctx, { baseUrl, adminToken, name: values.name ?? "Default workspace" });
    printSummary(ctx);
    if (ws) {
      const footer = `Kept in ${STATE_FILE}. Run this again at any time: it makes only what is missing.`;
      console.log(banner({ title: "batch-calls on Cloudflare", baseUrl, ...ws, adminToken: `in ${STATE_FILE}`, footer }));
    }
  } finally {
    rl?.close();
  }
}

try {
  await main();
} catch (err) {
  if (!(err instanceof SetupError)) throw err;
  console.error(`\n✗ ${err.message}`);
  process.exitCode = 1;
}
