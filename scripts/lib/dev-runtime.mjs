// @ts-check
/**
 * The service in wrangler dev's local runtime, for scripts that drive it
 * over HTTP as a customer would (`npm run bench:scale`, `npm run fault`):
 * start it on fresh or kept state, crash it, stop it, and a small client.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { debugLogPath } from "./dev-env.mjs";

/**
 * @typedef {object} ServerOptions
 * @property {string} [dir] start on the state in this folder (else a fresh temp one)
 * @property {number} [port]
 * @property {string} [adminToken]
 * @property {string} [encryptionKey]
 * @property {Record<string, string>} [vars] more Worker vars
 * @property {string} [logLevel] what wrangler prints to wrangler.log
 * @property {boolean} [testScheduled] serve GET /__scheduled
 * @property {string} [config] a wrangler.toml to run instead of the project's (a variant a bench generated)
 */

/**
 * @typedef {object} CallOptions
 * @property {unknown} [json] sent as a JSON body
 * @property {Record<string, string | Buffer<ArrayBuffer>>} [form] sent as multipart; `file` as a CSV file
 * @property {string} [admin] the admin token (instead of the workspace's key)
 * @property {string} [idempotencyKey]
 * @property {number[]} [expect] the statuses that are an answer (others throw)
 * @property {number} [timeoutMs]
 * @property {boolean} [retry] send it again after a lost connection (default: reads, DELETEs, keyed uploads)
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");

/** @typedef {(line: string) => void} Log where progress lines go */

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @returns {Promise<number>} a port nothing listens on just now */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once("error", reject)
      .listen(0, "127.0.0.1", () => {
        const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
        server.close(() => resolve(port));
      });
  });
}

/**
 * Live pids in process group `pgid` (zombies excluded: they are only waiting to be reaped).
 * @param {number} pgid
 */
function groupMembers(pgid) {
  const ps = spawnSync("ps", ["-eo", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter(/** @returns {m is RegExpMatchArray} */ (m) => m !== null && Number(m[2]) === pgid && !m[3]?.startsWith("Z"))
    .map((m) => `${m[1]} ${m[4]?.slice(0, 80)}`);
}

/**
 * Where a fresh server's state goes: BENCH_STATE_ROOT, else /dev/shm (memory) where the machine
 * has it, else the temp dir. Locally every Durable Object commit ends in an fsync of its SQLite
 * file, made on workerd's one thread, which waits for the disk: on this machine's disk that
 * was 10% of the thread's CPU (perf) and held 8 workspaces to ~1,600 calls/s against ~2,900
 * with the same state in memory (docs/scaling.md, "The local ceiling"). A deployed object's
 * commit does not wait on its isolate's thread, so memory is the closer model; BENCH_STATE_ROOT=/tmp
 * measures the disk.
 */
export function stateRoot() {
  const chosen = process.env.BENCH_STATE_ROOT;
  if (chosen) return chosen;
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/**
 * Watches the open descriptors of the group's workerd processes. With the
 * devtools inspector on (runtime "cli"), each subrequest and console line of
 * the Worker becomes a loopback HTTP request to wrangler's Node process (see
 * host()); when Node falls behind, the connections pile up in workerd until
 * it hits the open-files limit and stops answering. The peak is reported so
 * a run can be judged by it; with the inspector off it stays near 100.
 * @param {number} pgid
 */
function fdWatcher(pgid) {
  const pids = spawnSync("ps", ["-eo", "pid=,pgid=,comm="], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([, g, comm]) => Number(g) === pgid && comm === "workerd")
    .map(([pid]) => pid);
  /** @param {string} pid */
  const limitOf = (pid) => {
    try {
      return Number(readFileSync(`/proc/${pid}/limits`, "utf8").match(/Max open files\s+(\d+)/)?.[1]) || null;
    } catch {
      return null;
    }
  };
  const state = { maxOpenFds: 0, limit: pids[0] ? limitOf(pids[0]) : null };
  const sample = () => {
    for (const pid of pids) {
      try {
        state.maxOpenFds = Math.max(state.maxOpenFds, readdirSync(`/proc/${pid}/fd`).length);
      } catch {
        // gone, or no /proc here
      }
    }
  };
  const timer = setInterval(sample, 2000);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    peak: () => {
      sample();
      return { ...state };
    },
  };
}

/**
 * The last lines of a log file, or "(no log)".
 * @param {string} path
 */
export function tail(path, lines = 40) {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * A one-shot wrangler command, its output appended to `logPath`; throws if it fails.
 * @param {string[]} args
 * @param {string} logPath
 * @param {NodeJS.ProcessEnv} env
 */
export function wranglerOnce(args, logPath, env) {
  const out = openSync(logPath, "a");
  try {
    // CI=1: `d1 migrations apply` would otherwise ask for confirmation.
    const r = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: { ...env, CI: "1" }, stdio: ["ignore", out, out] });
    if (r.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed (${r.status ?? r.signal}):\n${tail(logPath)}`);
  } finally {
    closeSync(out);
  }
}

/**
 * Fresh state in a temp dir (or the state in `opts.dir`), migrations
 * applied, then `wrangler dev` in its own process group. `stop()` ends the
 * whole group (wrangler and its workerd) and checks with ps that nothing of
 * it is left; it deletes a temp dir it made unless BENCH_SCALE_KEEP=1.
 * `crash()` SIGKILLs the group at once and keeps the state, as a machine
 * losing power would. Options: `dir`, `port`, `adminToken`,
 * `encryptionKey` (pass the same ones to start again on the same state),
 * `vars` (more Worker vars), `logLevel` (what wrangler prints to
 * wrangler.log: default BENCH_SCALE_LOG_LEVEL or "warn"; "log" includes
 * the Worker's own console lines, which `npm run fault` watches),
 * `testScheduled` (GET <baseUrl>/__scheduled runs the Worker's scheduled
 * handler once, as the cron would: wrangler's --test-scheduled. Its
 * /cdn-cgi/handler/scheduled does not work here: with [assets] configured it
 * reaches wrangler's asset router, which has no scheduled handler, and
 * answers 500 "exception").
 * @param {Log} log
 * @param {string} runtime "cli": the `wrangler dev` command itself; anything else: unstable_startWorker, inspector off (see host())
 * @param {ServerOptions} [opts]
 */
export async function startServer(log, runtime, opts = {}) {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(stateRoot(), "bench-scale-"));
  const logPath = join(dir, "wrangler.log");
  /** @type {import("node:child_process").ChildProcess | null} */
  let child = null;
  let exited = false;
  /** @type {ReturnType<typeof fdWatcher> | null} */
  let fds = null;

  /** @param {NodeJS.Signals} signal */
  const killGroup = (signal) => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is gone
    }
  };
  // Last resort if this process dies without reaching stop(): never leave workerd running.
  const onExit = () => killGroup("SIGKILL");
  /** @param {NodeJS.Signals} signal */
  const onSignal = (signal) => {
    killGroup("SIGKILL");
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", onExit);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);

  const stop = async () => {
    fds?.stop();
    if (child?.pid) {
      const pgid = child.pid;
      killGroup("SIGTERM");
      for (let i = 0; i < 50 && groupMembers(pgid).length; i++) await sleep(100);
      if (groupMembers(pgid).length) {
        killGroup("SIGKILL");
        for (let i = 0; i < 30 && groupMembers(pgid).length; i++) await sleep(100);
      }
      const left = groupMembers(pgid);
      if (left.length) log(`WARNING: processes of wrangler dev's group ${pgid} are still alive: ${left.join("; ")}`);
    }
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    if (!ownDir) return;
    if (process.env.BENCH_SCALE_KEEP === "1") log(`BENCH_SCALE_KEEP=1: kept the state and wrangler.log in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const crash = async () => {
    fds?.stop();
    const pgid = child?.pid;
    killGroup("SIGKILL");
    for (let i = 0; pgid && i < 50 && groupMembers(pgid).length; i++) await sleep(100);
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  };

  // wrangler's debug log (every message it handles, see debugLogPath) goes to /dev/null here,
  // always: a developer's WRANGLER_LOG_PATH is not for the bench. wrangler.log keeps what it prints.
  const debugLog = debugLogPath(dir, {});
  const childEnv = { ...process.env, WRANGLER_LOG_PATH: debugLog, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

  try {
    log(`state in ${dir}; applying D1 migrations`);
    wranglerOnce(["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir], logPath, childEnv);

    const [port, inspectorPort] = [opts.port ?? (await freePort()), await freePort()];
    const baseUrl = `http://127.0.0.1:${port}`;
    const adminToken = opts.adminToken ?? randomBytes(24).toString("hex");
    const encryptionKey = opts.encryptionKey ?? randomBytes(32).toString("base64");
    const vars = {
      SIM_CALL_SECONDS: "0",
      ENVIRONMENT: "development",
      ADMIN_TOKEN: adminToken,
      SECRETS_ENCRYPTION_KEY: encryptionKey,
      PUBLIC_BASE_URL: baseUrl,
      ...opts.vars,
    };
    // --var wins over .dev.vars (wrangler 4 merges CLI bindings last), but a
    // developer's .dev.vars would still add whatever else it sets — e.g.
    // DISPATCH_STALE_SECONDS or DEV_TIME_SCALE — to the measured Worker.
    // Naming an --env-file makes wrangler read that file instead of
    // .dev.vars/.env, so the run sees wrangler.toml plus these vars only.
    const envFile = join(dir, "bench.env");
    writeFileSync(
      envFile,
      Object.entries(vars)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
      { mode: 0o600 },
    );
    const logLevel = opts.logLevel || process.env.BENCH_SCALE_LOG_LEVEL || "warn";
    /** @type {string[]} */
    let args;
    if (runtime === "cli") {
      args = [
        WRANGLER,
        "dev",
        "--local",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        dir,
        "--env-file",
        envFile,
        "--show-interactive-dev-session=false",
        // wrangler's Node process echoes every console line of the Worker (several per call) and
        // competes with workerd for the two cores; at "warn" it prints only warnings and errors.
        "--log-level",
        logLevel,
      ];
      if (opts.testScheduled) args.push("--test-scheduled");
      if (opts.config) args.push("--config", opts.config);
      for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
    } else {
      const hostOptions = join(dir, "host.json");
      writeFileSync(
        hostOptions,
        JSON.stringify({ port, persistTo: dir, envFile, vars, logLevel, testScheduled: Boolean(opts.testScheduled), config: opts.config }),
        {
          mode: 0o600,
        },
      );
      args = [fileURLToPath(import.meta.url), "--host", hostOptions];
    }

    const out = openSync(logPath, "a");
    child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true, // own process group: one signal reaches wrangler and workerd
      stdio: ["ignore", out, out], // to a file: the Worker logs a line per request
      env: childEnv,
    });
    closeSync(out);
    child.on("exit", () => (exited = true));

    const deadline = Date.now() + 120_000;
    for (;;) {
      if (exited) throw new Error(`wrangler dev exited before /healthz answered:\n${tail(logPath)}`);
      if (Date.now() > deadline) throw new Error(`${baseUrl}/healthz did not answer within 2 minutes:\n${tail(logPath)}`);
      try {
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(3000) });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      await sleep(300);
    }
    const pid = /** @type {number} */ (child.pid); // spawn succeeded: the child answered /healthz
    log(`wrangler dev is up at ${baseUrl} (pid ${pid})`);
    const watcher = fdWatcher(pid);
    fds = watcher;
    return { baseUrl, port, dir, adminToken, encryptionKey, logPath, stop, crash, isUp: () => !exited, fdPeak: () => watcher.peak() };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * `node scripts/bench-scale.mjs --host <options.json>`: the child that
 * serves the Worker when the runtime is "api". The same machinery as
 * `wrangler dev --local` (wrangler.toml, the env file, vars as bindings that
 * win over it, local persistence, the proxy in front), through wrangler's
 * unstable_startWorker, because only there can the devtools inspector be
 * turned off: with it on, workerd reports every subrequest (each D1
 * statement, Durable Object call, queue send) and console line to the
 * inspector proxy, which forwards each message to wrangler's Node process as
 * its own loopback HTTP request — about 25 per call, piling up as open
 * connections until workerd runs out of files.
 * @param {string} optionsPath
 */
export async function host(optionsPath) {
  /** @type {{ port: number, persistTo: string, envFile: string, vars: Record<string, string>, logLevel: "debug" | "info" | "log" | "warn" | "error" | "none", testScheduled: boolean, config?: string }} */
  const o = JSON.parse(readFileSync(optionsPath, "utf8"));
  /** @type {typeof import("wrangler")} */
  const { unstable_startWorker } = createRequire(join(ROOT, "package.json"))("wrangler");
  const worker = await unstable_startWorker({
    config: o.config ?? join(ROOT, "wrangler.toml"),
    envFiles: [o.envFile],
    bindings: Object.fromEntries(Object.entries(o.vars).map(([k, v]) => [k, { type: "plain_text", value: v }])),
    dev: {
      remote: false,
      inspector: false,
      persist: o.persistTo,
      logLevel: o.logLevel,
      watch: false,
      liveReload: false,
      testScheduled: o.testScheduled,
      server: { hostname: "127.0.0.1", port: o.port },
    },
  });
  await worker.ready;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await worker.dispose().catch((/** @type {Error} */ err) => process.stderr.write(`bench:scale host: dispose failed: ${err.message}\n`));
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// ---- HTTP -------------------------------------------------------------------------------

/** wrangler dev's proxy answers this when it lost its connection to the Worker (see README, Quickstart: a known upstream issue). */
const PROXY_DROP = /Your worker restarted mid-request/;

/**
 * A small HTTP client for the service. A request that fails below HTTP (the
 * connection reset or closed under load), or that wrangler dev's proxy
 * answers with its 503 "Your worker restarted mid-request", is sent again,
 * up to 3 times, when that is safe: reads, the idempotent DELETEs (metrics
 * reset, cancel), an upload that carries an Idempotency-Key — the service
 * replays its 201, and answers 409 while the first attempt is still running
 * — and whatever the caller marks `retry: true`. Retries are counted.
 * @param {string} baseUrl
 * @param {() => boolean} isUp whether the server is still running
 * @param {string} logPath its log, quoted when it has exited
 * @param {Log} log
 */
export function client(baseUrl, isUp, logPath, log) {
  /** @type {Record<string, string>} */
  let auth = {};
  let retries = 0;
  /**
   * @param {string} method
   * @param {string} path
   * @param {Record<string, string>} headers
   * @param {RequestInit["body"]} body
   * @param {number} timeoutMs
   */
  const once = async (method, path, headers, body, timeoutMs) => {
    try {
      return await fetch(`${baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      if (!isUp()) throw new Error(`${method} ${path}: wrangler dev has exited:\n${tail(logPath)}`);
      const err = /** @type {Error & { cause?: { code?: string, message?: string } }} */ (e);
      const cause = err.cause ? ` (${[err.cause.code, err.cause.message].filter(Boolean).join(": ")})` : "";
      // network: the request failed below HTTP (not a timeout), so sending it again may work.
      throw Object.assign(new Error(`${method} ${path}: ${err.message}${cause}`), { network: err.name !== "TimeoutError" });
    }
  };
  /**
   * @param {string} method
   * @param {string} path
   * @param {CallOptions} [options]
   * @returns {Promise<{ status: number, body: any, at: number }>} `body` is the answer's JSON, as parsed (null when empty)
   */
  const call = async (method, path, { json, form, admin, idempotencyKey, expect = [200], timeoutMs = 60_000, retry } = {}) => {
    /** @type {Record<string, string>} */
    const headers = admin ? { authorization: `Bearer ${admin}` } : { ...auth };
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    const retryable = retry ?? (method === "GET" || method === "DELETE" || Boolean(idempotencyKey));
    for (let attempt = 1; ; attempt++) {
      /** @type {string | FormData | undefined} */
      let body;
      if (json !== undefined) {
        headers["content-type"] = "application/json";
        body = JSON.stringify(json);
      } else if (form) {
        body = new FormData();
        for (const [k, v] of Object.entries(form)) {
          if (k === "file") body.append("file", new Blob([v], { type: "text/csv" }), "bench.csv");
          else body.append(k, String(v));
        }
      }
      let res;
      try {
        res = await once(method, path, headers, body, timeoutMs);
      } catch (e) {
        const err = /** @type {Error & { network?: boolean }} */ (e);
        if (!err.network || !retryable || attempt >= 4) throw err;
        retries++;
        log(`${err.message}; sending it again`);
        await sleep(250 * attempt);
        continue;
      }
      const text = await res.text();
      if (res.status === 503 && PROXY_DROP.test(text) && retryable && attempt < 4) {
        retries++;
        log(`${method} ${path}: wrangler dev's proxy lost the connection to the Worker (503); sending it again`);
        await sleep(250 * attempt);
        continue;
      }
      if (res.status === 409 && idempotencyKey && attempt > 1 && attempt < 20) {
        await sleep(1000); // the first attempt of this upload is still running on the server
        continue;
      }
      if (!expect.includes(res.status)) throw new Error(`${method} ${path}: expected ${expect.join("/")}, got ${res.status}: ${text.slice(0, 500)}`);
      return { status: res.status, body: text ? JSON.parse(text) : null, at: Date.now() };
    }
  };
  return {
    call,
    /**
     * Sends this workspace's key with every request but admin ones.
     * @param {string} apiKey
     * @param {string} workspaceId
     */
    useKey: (apiKey, workspaceId) => (auth = { "x-api-key": apiKey, "x-workspace-id": workspaceId }),
    /**
     * One request with the workspace's key, its answer unread (a download to stream), not retried.
     * @param {string} method
     * @param {string} path
     */
    raw: (method, path, timeoutMs = 10 * 60_000) => once(method, path, { ...auth }, undefined, timeoutMs),
    retries: () => retries,
  };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === "--host") {
  await host(String(process.argv[3]));
}
