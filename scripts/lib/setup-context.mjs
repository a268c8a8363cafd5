// @ts-check
/**
 * What every step of `npm run setup:cloudflare` shares: how it talks to the user, wrangler and
 * the local file that remembers what the script made (.cloudflare.local.json, git-ignored).
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SetupError } from "./setup-wrangler.mjs";

/** Holds the admin token and an API key: readable by its owner only. */
export const STATE_FILE = ".cloudflare.local.json";

/**
 * What the script made and must find again on the next run.
 * @typedef {object} LocalState
 * @property {string} [url] the origin the Worker answers on
 * @property {string} [adminToken] the ADMIN_TOKEN the script set (or was given)
 * @property {string} [workspaceId]
 * @property {string} [apiKey] the first workspace's API key
 * @property {string} [keyId]
 * @property {string} [agentId] its simulated agent
 */

/**
 * @typedef {object} Summary
 * @property {string[]} created what this run made
 * @property {string[]} kept what was there already
 * @property {string[]} skipped what was left out, and why
 */

/**
 * @typedef {object} SetupContext
 * @property {string} dir the project directory (wrangler.toml, migrations/, the local file)
 * @property {import("./setup-wrangler.mjs").Wrangler} wrangler
 * @property {(line: string) => void} print
 * @property {((question: string) => Promise<string>) | null} ask null: no questions (--yes, or stdin is not a terminal)
 * @property {Record<string, string | undefined>} env values given in the environment (ADMIN_TOKEN, TWILIO_*…)
 * @property {LocalState} state
 * @property {() => void} saveState
 * @property {Summary} summary
 */

/**
 * Starts a step: says what it is about to do.
 * @param {SetupContext} ctx
 * @param {string} title
 */
export function step(ctx, title) {
  ctx.print(`\n▸ ${title}`);
}

/**
 * A line under the current step: what it does or found.
 * @param {SetupContext} ctx
 * @param {string} line
 */
export function say(ctx, line) {
  ctx.print(`  ${line}`);
}

/**
 * The local file, or an empty state when there is none yet.
 * @param {string} dir
 * @returns {LocalState}
 */
export function loadState(dir) {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new SetupError(`${path} is not a JSON object; fix or remove it (it holds the admin token and API key this script made).`);
}

/**
 * Writes the local file, readable by its owner only (chmod too: `mode` applies to a new file only).
 * @param {string} dir
 * @param {LocalState} state
 */
export function saveState(dir, state) {
  const path = join(dir, STATE_FILE);
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
