// @ts-check
/**
 * How `npm run setup:cloudflare` runs wrangler and reads what it prints. Each parser reads the
 * format of wrangler 4.86's own output (wrangler-dist/cli.js), quoted beside it; the stand-in
 * test/scripts/fake-wrangler.mjs prints the same.
 */
import { spawn } from "node:child_process";

/** A step that cannot go on: the sentence (and any wrangler output) the script stops with. */
export class SetupError extends Error {
  /**
   * @param {string} message
   * @param {string} [output] what the failed wrangler command printed
   */
  constructor(message, output = "") {
    super(message);
    this.output = output;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a colour code
const ANSI = /\x1b\[[0-9;]*m/g;

/** @param {string} text */
export const stripAnsi = (text) => text.replace(ANSI, "");

/**
 * @callback Wrangler
 * @param {string[]} args
 * @param {{ input?: string, show?: boolean }} [options] input: written to its stdin (a secret's value); show: pass its output on as it comes
 * @returns {Promise<string>} its stdout and stderr, colour codes removed
 */

/**
 * A runner for the `wrangler` found on PATH (npm run puts node_modules/.bin there; a test puts a
 * stand-in first). Every call is non-interactive (CI=1: `d1 migrations apply` asks nothing); a
 * non-zero exit throws a SetupError holding wrangler's output.
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, print: (line: string) => void }} options
 * @returns {Wrangler}
 */
export function wranglerRunner({ cwd, env, print }) {
  return (args, { input, show = false } = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn("wrangler", args, { cwd, env: { ...env, CI: "1" }, shell: false, stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      let rest = "";
      /** @param {Buffer} chunk */
      const take = (chunk) => {
        const text = stripAnsi(chunk.toString("utf8"));
        output += text;
        if (!show) return;
        const lines = (rest + text).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) print(`    │ ${line}`);
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      child.on("error", (err) => {
        const missing = /** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT";
        reject(
          new SetupError(missing ? "wrangler was not found: run `npm install`, then `npm run setup:cloudflare`." : `wrangler could not start: ${err.message}`),
        );
      });
      child.on("close", (code, signal) => {
        if (show && rest) print(`    │ ${rest}`);
        if (code === 0) return resolve(output);
        const shown = show ? "" : `${output.trimEnd()}\n`;
        const sentence = `\`wrangler ${args.join(" ")}\` failed (${signal ?? `exit ${code}`}); nothing after it was done. Fix the cause above and run the script again.`;
        reject(new SetupError(`${shown}${sentence}`, output));
      });
      child.stdin.on("error", () => {}); // it may exit before reading: its exit status says what happened
      child.stdin.end(input ?? "");
    });
}

/**
 * The first JSON value in wrangler's output (a config warning may come before it).
 * @param {string} output
 * @param {string} command
 * @returns {unknown}
 */
export function parseJsonOutput(output, command) {
  const start = output.search(/^[[{]/m);
  try {
    if (start >= 0) return JSON.parse(output.slice(start));
  } catch {
    // reported below, with the output
  }
  throw new SetupError(`${output.trimEnd()}\nCould not read the JSON that \`wrangler ${command}\` prints.`);
}

/**
 * `d1 create` prints the new database as a config snippet (smol-toml's stringify for a wrangler.toml:
 * `database_id = "<uuid>"`; JSON for a wrangler.json: `"database_id": "<uuid>"`).
 * @param {string} output
 */
export function parseCreatedDatabaseId(output) {
  return /database_id"?\s*[=:]\s*"([0-9a-f-]{36})"/i.exec(output)?.[1] ?? null;
}

/**
 * `r2 bucket list` prints each bucket as labelled values (formatLabelledValues), blank-line separated:
 * `name:           batch-calls-csv` / `creation_date:  2026-…`.
 * @param {string} output
 */
export function parseBucketNames(output) {
  return [...output.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1] ?? "");
}

/**
 * `queues list` prints a cli-table3 table (columns id, name, created_on, …): the `name` column of each row.
 * @param {string} output
 */
export function parseQueueNames(output) {
  const rows = output
    .split("\n")
    .filter((line) => line.startsWith("│"))
    .map((line) => line.split("│").map((cell) => cell.trim()));
  const column = rows[0]?.indexOf("name") ?? -1;
  if (column < 0) return [];
  return rows.slice(1).map((cells) => cells[column] ?? "");
}

/**
 * `deploy` lists its targets under "Deployed <name> triggers": the workers.dev one as
 * `  https://<name>.<subdomain>.workers.dev` (routes and custom domains have no scheme there).
 * @param {string} output
 */
export function parseDeployedUrl(output) {
  const at = output.search(/^Deployed \S+ triggers/m);
  const url = at < 0 ? undefined : /^\s+(https?:\/\/\S+)\s*$/m.exec(output.slice(at))?.[1];
  return url ? new URL(url).origin : null;
}
