// @ts-check
/**
 * What `npm start` (scripts/dev.mjs) hands `wrangler dev` besides its
 * arguments: the Worker vars it passes through from the environment, and
 * where wrangler's debug log goes (the bench's runtime, dev-runtime.mjs,
 * sends it to the same place). No side effects, so test/scripts/dev-env.test.ts
 * can check them without starting wrangler.
 */
import { lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * The Worker vars `npm start` takes from its environment when set there: every
 * var of the README's table but ENVIRONMENT (always "development" under npm
 * start) and SECRETS_ENCRYPTION_KEY (read from .dev.vars alone: the dev seed
 * encrypts with that same value). test/scripts/dev-env.test.ts holds the two
 * lists to each other.
 */
export const DEV_PASS_THROUGH = [
  "ADMIN_TOKEN",
  "PUBLIC_BASE_URL",
  "TWILIO_ACCOUNT_SID",
  "TWILIO_AUTH_TOKEN",
  "TWILIO_API_BASE_URL",
  "SIM_CALL_SECONDS",
  "SIM_RESULTS",
  "DEV_TIME_SCALE",
  "CALL_LEASE_SECONDS",
  "DISPATCH_STALE_SECONDS",
  "CORS_ORIGINS",
  "METRICS",
];

/**
 * The `--var`s `npm start` gives `wrangler dev`: ENVIRONMENT, then each of
 * DEV_PASS_THROUGH set in `env` (--var wins over .dev.vars). The example
 * .dev.vars points PUBLIC_BASE_URL at :8787; on another port it follows the
 * port unless someone chose a real URL.
 * @param {Record<string, string | undefined>} env
 * @param {{ port: number, fileBaseUrl: string | undefined }} o the port served, and PUBLIC_BASE_URL as .dev.vars has it
 */
export function devWorkerVars(env, { port, fileBaseUrl }) {
  /** @type {Record<string, string>} */
  const vars = { ENVIRONMENT: "development" };
  for (const name of DEV_PASS_THROUGH) {
    const value = env[name];
    if (value !== undefined) vars[name] = value;
  }
  if (vars.PUBLIC_BASE_URL === undefined && port !== 8787 && (!fileBaseUrl || /^https?:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/?$/.test(fileBaseUrl))) {
    vars.PUBLIC_BASE_URL = `http://localhost:${port}`;
  }
  return vars;
}

/**
 * Where wrangler's debug log goes: `<dir>/wrangler-debug.log`, a link to
 * /dev/null (made if missing), unless `env` names a WRANGLER_LOG_PATH.
 * wrangler 4.86 appends every message it handles to that file whatever its
 * log level (WRANGLER_LOG and --log-level only choose what it prints): with
 * `wrangler dev`'s inspector on, that is each devtools message of the Worker —
 * every console line and subrequest, hundreds of MB over a long run, to
 * ~/.config/.wrangler/logs by default (workers-sdk#10523). WRANGLER_LOG_PATH is
 * the one setting that moves it (a path ending in .log is used as the file).
 * @param {string} dir
 * @param {Record<string, string | undefined>} env
 */
export function debugLogPath(dir, env) {
  if (env.WRANGLER_LOG_PATH) return env.WRANGLER_LOG_PATH;
  const path = join(dir, "wrangler-debug.log");
  mkdirSync(dir, { recursive: true });
  if (!lstatExists(path)) symlinkSync("/dev/null", path);
  return path;
}

/** @param {string} path whether anything, a dangling link included, is there */
function lstatExists(path) {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
