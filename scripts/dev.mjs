// @ts-check
// `npm start`: local D1 migrations, a ready-to-use dev workspace / API key / simulated
// agent (ids from .dev.vars), then `wrangler dev` until Ctrl-C, kept warm so that a
// request after a pause does not meet wrangler's proxy dropping an idle connection (4.).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { banner } from "./lib/banner.mjs";
import { encryptSecret, missingDevSetting, secretHash, splitApiKey } from "./lib/dev-credentials.mjs";
import { debugLogPath, devWorkerVars } from "./lib/dev-env.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);

const WRANGLER = "node_modules/wrangler/bin/wrangler.js";

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`dev: ${message}`);
  process.exit(1);
}

/**
 * Same reading as dotenv (which wrangler uses for .dev.vars), minus multi-line values.
 * @param {string} text
 */
function parseDevVars(text) {
  /** @type {Record<string, string | undefined>} */
  const vars = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/);
    if (!m?.[1]) continue;
    let value = (m[2] ?? "").trim();
    const quoted = value.match(/^(["'`])(.*)\1$/);
    value = quoted ? (quoted[2] ?? "") : value.replace(/\s*#.*$/, "");
    vars[m[1]] = value;
  }
  return vars;
}

/** @param {string | null} v */
const sql = (v) => (v === null ? "NULL" : `'${String(v).replaceAll("'", "''")}'`);

/**
 * What npm start seeds: from .dev.vars (or the environment), each checked to be set, but for
 * encryptionKey, which is read from .dev.vars alone.
 * @typedef {{ workspaceId: string, apiKey: string, agentId: string, encryptionKey: string | undefined }} DevSeed
 */

/**
 * The dev workspace, its API key and agent, as SQL for the local D1.
 * @param {DevSeed} dev
 */
function seedSql({ workspaceId, apiKey, agentId, encryptionKey }) {
  const parts = splitApiKey(apiKey);
  if (!parts) fail("DEV_API_KEY must look like bck_<16 letters/digits>_<secret of 16+ chars>.");
  const hash = secretHash(parts.secret);
  const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
  // The agent's signing secret: the simulated agent signs its results with it (nobody else needs to see it).
  const agentSecret = `whsec_${randomBytes(32).toString("base64")}`;
  let sealed;
  let sealedAgent;
  try {
    sealed = encryptSecret(webhookSecret, /** @type {string} */ (encryptionKey));
    sealedAgent = encryptSecret(agentSecret, /** @type {string} */ (encryptionKey));
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
  const now = new Date().toISOString();
  // The key and agent are fixed values from .dev.vars, so a changed DEV_API_KEY secret or
  // DEV_WORKSPACE_ID, or a key revoked / agent deleted while testing, is repaired here:
  // the credentials the banner prints must work.
  return `
INSERT INTO workspaces (id, name, calls_per_second, max_concurrent_calls, webhook_secret_enc, created_at)
  VALUES (${sql(workspaceId)}, 'Dev workspace', 5, 10, ${sql(sealed)}, ${sql(now)})
  ON CONFLICT (id) DO NOTHING;
INSERT INTO api_keys (id, workspace_id, secret_hash, created_at)
  VALUES (${sql(parts.keyId)}, ${sql(workspaceId)}, ${sql(hash)}, ${sql(now)})
  ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, workspace_id = excluded.workspace_id, revoked_at = NULL
  WHERE secret_hash <> excluded.secret_hash OR workspace_id <> excluded.workspace_id OR revoked_at IS NOT NULL;
INSERT INTO agents (id, workspace_id, name, provider, created_at, signing_secret_enc)
  VALUES (${sql(agentId)}, ${sql(workspaceId)}, 'Dev simulated agent', 'simulated', ${sql(now)}, ${sql(sealedAgent)})
  ON CONFLICT (id) DO UPDATE SET workspace_id = excluded.workspace_id, deleted_at = NULL,
    signing_secret_enc = coalesce(agents.signing_secret_enc, excluded.signing_secret_enc)
  WHERE workspace_id <> excluded.workspace_id OR deleted_at IS NOT NULL OR agents.signing_secret_enc IS NULL;`;
}

// wrangler appends every message it handles to a debug log whatever its log level; under
// `wrangler dev` that is each devtools message of the Worker, hundreds of MB over a long run
// (see debugLogPath). It goes to /dev/null unless WRANGLER_LOG_PATH names a place for it.
const wranglerEnv = { ...process.env, WRANGLER_LOG_PATH: debugLogPath(fileURLToPath(new URL("../.wrangler", import.meta.url)), process.env) };

/**
 * Runs a one-shot wrangler command; CI=1 makes `d1 migrations apply` skip its confirmation prompt.
 * @param {string[]} args
 */
function wranglerOnce(args, { quiet = false } = {}) {
  const r = spawnSync(process.execPath, [WRANGLER, ...args], {
    env: { ...wranglerEnv, CI: "1" },
    stdio: quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    encoding: "utf8",
  });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout}${r.stderr}`);
    fail(`wrangler ${args.slice(0, 3).join(" ")} failed (exit ${r.status ?? r.signal}).`);
  }
}

/**
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

// ---- 1. .dev.vars -------------------------------------------------------------------
if (!existsSync(WRANGLER)) fail("wrangler is not installed; run `npm install` first.");
if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("dev: created .dev.vars from .dev.vars.example");
}
const devVars = parseDevVars(readFileSync(".dev.vars", "utf8"));
/** @param {string} name */
const setting = (name) => process.env[name] ?? devVars[name];
const missing = missingDevSetting(process.env, devVars);
if (missing) fail(missing);
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT=${process.env.PORT} is not a port number.`);
const baseUrl = `http://localhost:${port}`;
const dev = /** @type {DevSeed} */ ({
  workspaceId: setting("DEV_WORKSPACE_ID"),
  apiKey: setting("DEV_API_KEY"),
  agentId: setting("DEV_AGENT_ID"),
  // The Worker reads this from .dev.vars only, so the seed must use that same value.
  encryptionKey: devVars.SECRETS_ENCRYPTION_KEY,
});

const seed = seedSql(dev); // validates DEV_API_KEY and the encryption key before any work
if (!(await portIsFree(port))) fail(`port ${port} is already in use; set PORT to another one.`);

// ---- 2./3. local D1: migrations, then the dev workspace / key / agent -----------------
// No --persist-to: both d1 --local and `wrangler dev` default to .wrangler/state.
console.log("dev: applying local D1 migrations");
wranglerOnce(["d1", "migrations", "apply", "DB", "--local"]);
console.log(`dev: making sure workspace ${dev.workspaceId}, its API key and agent ${dev.agentId} exist`);
wranglerOnce(["d1", "execute", "DB", "--local", "--command", seed], { quiet: true });

// ---- 4. wrangler dev: its output, and a keep-warm ---------------------------------------
// wrangler dev answers through a proxy that keeps pooled connections to the Worker's
// runtime, and both ends drop an idle one after 5 s (kj's defaults). A request sent on a
// connection just as it is dropped never reaches the Worker: a GET is parked by the proxy,
// anything else gets `503 "Your worker restarted mid-request"` though nothing restarted
// (workers-sdk#14641; wrangler 4.86 calls every lost request a restart). Measured here: one
// upload every 5 s got that 503 on 14 of 72; with the request below every 2 s, 0 of 48. So
// while the server runs, a HEAD / (the console's index.html, an asset: the Worker does not
// run) goes through the proxy every 2 s from the banner on, and no pooled connection gets
// near 5 s idle. Its log line is dropped by passOnOutput.
const KEEP_WARM_MS = 2000;
const KEEP_WARM_LINE = /^\[wrangler:info\] HEAD \/ \d{3} /;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a colour code
const ANSI = /\x1b\[[0-9;]*m/g;

let lastOutputAt = 0;

/** @param {import("node:stream").Readable} stream wrangler's stdout */
function passOnOutput(stream) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (/** @type {string} */ chunk) => {
    lastOutputAt = Date.now();
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    const shown = lines.filter((line) => !KEEP_WARM_LINE.test(line.replace(ANSI, "")));
    if (shown.length) writeOut(`${shown.join("\n")}\n`);
  });
  stream.on("end", () => rest && writeOut(rest));
}

/** @param {string} text */
function writeOut(text) {
  try {
    process.stdout.write(text);
  } catch {
    // the terminal is gone (SIGHUP): nothing to show it on
  }
}
process.stdout.on("error", () => {}); // EPIPE once the terminal is gone: stop() still runs

function keepWarm() {
  const timer = setInterval(() => {
    if (stopping) return clearInterval(timer);
    fetch(`http://127.0.0.1:${port}/`, { method: "HEAD", signal: AbortSignal.timeout(KEEP_WARM_MS) }).catch(() => {
      // the server is busy, reloading or stopping: the next one will do
    });
  }, KEEP_WARM_MS);
  timer.unref();
}

// ---- 5. wrangler dev ----------------------------------------------------------------
// The README's vars, when set in the environment (METRICS among them), and PUBLIC_BASE_URL following PORT.
const vars = devWorkerVars(process.env, { port, fileBaseUrl: devVars.PUBLIC_BASE_URL });

const devArgs = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"];
for (const [name, value] of Object.entries(vars)) devArgs.push("--var", `${name}:${value}`);

// Same process group as this script (no `detached`): a signal to the group — Ctrl-C,
// `kill -- -PGID`, even SIGKILL, which no handler sees — reaches wrangler and the workerd
// it starts directly, so nothing is left listening on the port. A signal to this process
// alone is forwarded below. stdin is not the terminal: a background process group reading
// the tty would be stopped (SIGTTIN). The Worker never reads request.cf, and offline the
// fetch of it only prints stack traces.
// wrangler's stdout comes through this script, which drops the lines of its own keep-warm
// requests (4. above) and passes everything else on unchanged, in colour if the terminal has it.
/** @type {NodeJS.ProcessEnv} */
const childEnv = { ...wranglerEnv, CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false" };
if (process.stdout.isTTY && childEnv.FORCE_COLOR === undefined && childEnv.NO_COLOR === undefined) childEnv.FORCE_COLOR = "1";
const child = spawn(process.execPath, [WRANGLER, ...devArgs], { stdio: ["ignore", "pipe", "inherit"], env: childEnv });
passOnOutput(child.stdout);

/**
 * Every process as `ps` sees it: pid, parent, process group.
 * @returns {{ pid: number, ppid: number, pgid: number }[]}
 */
function processes() {
  const r = spawnSync("ps", ["-A", "-o", "pid=,ppid=,pgid="], { encoding: "utf8" });
  if (r.status !== 0) return [];
  return r.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, ppid, pgid]) => pid && ppid !== undefined && ppid >= 0 && pgid)
    .map(([pid = 0, ppid = 0, pgid = 0]) => ({ pid, ppid, pgid }));
}

/**
 * Every process below `pid` (wrangler's node, workerd…).
 * @param {number} pid
 * @param {{ pid: number, ppid: number }[]} all
 */
function descendants(pid, all) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0, queue = [pid]; i < queue.length; i++) {
    for (const p of all) {
      if (p.ppid === queue[i]) {
        out.push(p.pid);
        queue.push(p.pid);
      }
    }
  }
  return out;
}

// wrangler's processes as last seen: once wrangler has exited its children are re-parented
// and no longer found below it, so a crash of wrangler alone still leaves a list to clean up.
/** @type {number[]} */
let tree = [];
const refreshTree = () => {
  if (child.exitCode === null && child.signalCode === null && child.pid) tree = descendants(child.pid, processes());
};
setInterval(refreshTree, 30_000).unref();

/** @param {NodeJS.Signals} signal */
function signalTree(signal) {
  // A remembered pid is signalled only while it is still in our process group: never a
  // stranger that reused the number.
  const all = processes();
  const group = all.find((p) => p.pid === process.pid)?.pgid;
  const alive = new Set(all.filter((p) => p.pgid === group).map((p) => p.pid));
  for (const pid of [child.pid, ...tree]) {
    if (pid === undefined || pid === process.pid || (all.length > 0 && !alive.has(pid))) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // ESRCH: already gone
    }
  }
}

let stopping = false;
function stop() {
  refreshTree();
  if (stopping) return signalTree("SIGKILL"); // a second Ctrl-C: don't wait
  stopping = true;
  try {
    console.log("\ndev: stopping wrangler dev");
  } catch {
    // stdout may be gone with the terminal (SIGHUP)
  }
  // wrangler shuts its workerd down on SIGTERM; whatever is still up after 5 s is killed.
  signalTree("SIGTERM");
  setTimeout(() => {
    refreshTree();
    signalTree("SIGKILL");
  }, 5000).unref();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.on("SIGHUP", stop);
// Last resort if this script dies of an error: never leave the server running.
process.on("exit", () => {
  refreshTree();
  signalTree("SIGKILL");
});

child.on("exit", (code, signal) => {
  signalTree("SIGKILL"); // workerd, if wrangler left it behind
  if (stopping) process.exit(0);
  console.error(`dev: wrangler dev exited (${signal ?? `code ${code}`})`);
  process.exit(code ?? 1);
});

// ---- 6. banner once /healthz answers --------------------------------------------------
/** @param {number} timeoutMs */
async function waitForHealth(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!stopping && Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

/**
 * Until wrangler has printed nothing for `quietMs` (at most `maxMs`): its lines about the health check come first.
 * @param {number} quietMs
 * @param {number} maxMs
 */
async function outputSettled(quietMs, maxMs) {
  const deadline = Date.now() + maxMs;
  while (Date.now() - lastOutputAt < quietMs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

if (await waitForHealth(120_000)) {
  refreshTree();
  keepWarm();
  await outputSettled(250, 2000);
  console.log(
    banner({
      title: "batch-calls dev server",
      baseUrl,
      workspaceId: dev.workspaceId,
      apiKey: dev.apiKey,
      agentId: dev.agentId,
      adminToken: setting("ADMIN_TOKEN") || "(not set: admin routes are off)",
      footer: "Ctrl-C stops the server.",
    }),
  );
} else if (!stopping) {
  console.error(`dev: ${baseUrl}/healthz did not answer within 2 minutes; wrangler dev is still running.`);
}
