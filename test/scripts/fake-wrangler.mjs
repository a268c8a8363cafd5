// @ts-check
/**
 * A stand-in for `wrangler` (4.86) that needs no network, for test/scripts/setup-cloudflare.test.ts.
 * It answers the commands `npm run setup:cloudflare` runs with the same output as the real one
 * (formats taken from node_modules/wrangler/wrangler-dist/cli.js), keeps its "account" in a JSON
 * file so a second run sees what the first made, and appends each call to a log.
 *
 * FAKE_WRANGLER_STATE  the account: see FakeAccount (required)
 * FAKE_WRANGLER_LOG    one JSON line per call: { argv, stdin (secret put only), ci }
 * FAKE_WRANGLER_URL    the origin `deploy` prints as the workers.dev target
 * FAKE_WRANGLER_FAIL   a command (e.g. "queues create") that fails as an API error does
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";

/**
 * @typedef {object} FakeAccount
 * @property {boolean} loggedIn
 * @property {{ uuid: string, name: string }[]} databases
 * @property {string[]} buckets
 * @property {string[]} queues
 * @property {Record<string, string>} secrets
 * @property {null | "draft" | "deployed"} worker
 * @property {number} deploys
 * @property {Record<string, string[]>} migrations applied migration file names, by database uuid
 */

/** The real list shows one page of the account's queues; small here so paging is exercised. */
const QUEUES_PAGE_SIZE = 5;

const env = process.env;
const statePath = env.FAKE_WRANGLER_STATE ?? "";
/** @type {FakeAccount} */
const account = JSON.parse(readFileSync(statePath, "utf8"));
const argv = process.argv.slice(2);
const positional = argv.filter((a) => !a.startsWith("-"));
const COMMANDS = [
  "whoami",
  "d1 list",
  "d1 create",
  "d1 migrations apply",
  "r2 bucket list",
  "r2 bucket create",
  "queues list",
  "queues create",
  "secret list",
  "secret put",
  "deploy",
];
const command = COMMANDS.find((c) => `${positional.join(" ")} `.startsWith(`${c} `)) ?? positional.join(" ");
/** @param {string} name */
const flag = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};

const save = () => writeFileSync(statePath, JSON.stringify(account, null, 2));
/** @param {string} text */
const out = (text) => process.stdout.write(`${text}\n`);
const printBanner = () => out(" ⛅️ wrangler 4.86.0\n───────────────────");
/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
  process.exit(1);
}

/** cli-table3 without colour, as logger.table prints it. @param {Record<string, string>[]} rows */
function table(rows) {
  const head = Object.keys(rows[0] ?? {});
  const widths = head.map((h) => Math.max(h.length, ...rows.map((r) => (r[h] ?? "").length)) + 2);
  const line = (/** @type {string} */ l, /** @type {string} */ m, /** @type {string} */ r) => l + widths.map((w) => "─".repeat(w)).join(m) + r;
  const row = (/** @type {string[]} */ cells) => `│${cells.map((c, i) => ` ${c.padEnd((widths[i] ?? 2) - 2)} `).join("│")}│`;
  return [line("┌", "┬", "┐"), row(head), line("├", "┼", "┤"), ...rows.map((r) => row(head.map((h) => r[h] ?? ""))), line("└", "┴", "┘")].join("\n");
}

/** The top-level Worker name, D1 entries and queue names of wrangler.toml in the working directory. */
function config() {
  const text = readFileSync(join(process.cwd(), "wrangler.toml"), "utf8");
  const value = (/** @type {string} */ block, /** @type {string} */ key) => new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, "m").exec(block)?.[1];
  const blocks = text.split(/^(?=\[)/m);
  return {
    name: value(blocks[0] ?? "", "name") ?? fail("Required Worker name missing."),
    d1: blocks
      .filter((b) => b.startsWith("[[d1_databases]]"))
      .map((b) => ({
        binding: value(b, "binding"),
        name: value(b, "database_name"),
        id: value(b, "database_id"),
        dir: value(b, "migrations_dir") ?? "migrations",
      })),
    buckets: blocks.filter((b) => b.startsWith("[[r2_buckets]]")).map((b) => value(b, "bucket_name")),
    queues: blocks.filter((b) => b.startsWith("[[queues.")).flatMap((b) => [value(b, "queue"), value(b, "dead_letter_queue")].filter((q) => q !== undefined)),
    producers: blocks.filter((b) => b.startsWith("[[queues.producers]]")).map((b) => value(b, "queue")),
    consumers: blocks.filter((b) => b.startsWith("[[queues.consumers]]")).map((b) => value(b, "queue")),
  };
}

const stdin = command === "secret put" ? readFileSync(0, "utf8") : undefined;
if (env.FAKE_WRANGLER_LOG)
  appendFileSync(env.FAKE_WRANGLER_LOG, `${JSON.stringify({ argv, ...(stdin === undefined ? {} : { stdin }), ci: env.CI ?? null })}\n`);

if (command === "whoami") {
  if (argv.includes("--json")) {
    if (!account.loggedIn) {
      out(JSON.stringify({ loggedIn: false }));
      process.exit(1);
    }
    out(
      JSON.stringify({
        loggedIn: true,
        authType: "OAuth Token",
        email: "dev@example.com",
        accounts: [{ id: "0123456789abcdef0123456789abcdef", name: "Example" }],
        tokenPermissions: [],
      }),
    );
  } else {
    printBanner();
    out("Getting User settings...");
    out(
      account.loggedIn
        ? "👋 You are logged in with an OAuth Token, associated with the email dev@example.com."
        : "You are not authenticated. Please run `wrangler login`.",
    );
  }
  process.exit(0);
}

if (!account.loggedIn) {
  fail("In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.");
}
if (env.FAKE_WRANGLER_FAIL && command.startsWith(env.FAKE_WRANGLER_FAIL)) {
  fail("A request to the Cloudflare API (/accounts/0123456789abcdef0123456789abcdef/queues) failed.\n\n  Authentication error [code: 10000]");
}

switch (command) {
  case "d1 list": {
    if (!argv.includes("--json")) fail("stand-in: only `d1 list --json` is played");
    out(
      JSON.stringify(
        account.databases.map((d) => ({
          uuid: d.uuid,
          name: d.name,
          created_at: "2026-04-26T00:00:00.000Z",
          version: "production",
          num_tables: 0,
          file_size: 0,
        })),
        null,
        2,
      ),
    );
    break;
  }
  case "d1 create": {
    const name = positional[2] ?? fail("Not enough non-option arguments");
    if (account.databases.some((d) => d.name === name)) fail("A database with that name already exists");
    const db = { uuid: randomUUID(), name };
    account.databases.push(db);
    save();
    printBanner();
    out(`✅ Successfully created DB '${name}' in region WNAM\nCreated your new D1 database.\n`);
    out("To access your new D1 Database in your Worker, add the following snippet to your configuration file:");
    out(`[[d1_databases]]\nbinding = "${name.replace(/-/g, "_")}"\ndatabase_name = "${name}"\ndatabase_id = "${db.uuid}"`);
    break;
  }
  case "d1 migrations apply": {
    if (!argv.includes("--remote")) fail("stand-in: only --remote is played");
    if (!env.CI && process.stdin.isTTY) fail("stand-in: the real one would ask for confirmation here");
    const entry =
      config().d1.find((d) => d.binding === positional[3] || d.name === positional[3]) ??
      fail(`Couldn't find a D1 DB with the name or binding '${positional[3]}'.`);
    const db =
      account.databases.find((d) => d.uuid === entry.id) ??
      fail(`A request to the Cloudflare API failed.\n\n  The database ${entry.id} could not be found [code: 7404]`);
    account.migrations[db.uuid] ??= [];
    const applied = account.migrations[db.uuid] ?? [];
    const todo = readdirSync(join(process.cwd(), entry.dir))
      .filter((f) => f.endsWith(".sql") && !applied.includes(f))
      .sort();
    printBanner();
    if (todo.length === 0) {
      out("✅ No migrations to apply!");
      break;
    }
    out(`Migrations to be applied:\n${table(todo.map((name) => ({ name })))}`);
    out(`? About to apply ${todo.length} migration(s)\nYour database may not be available to serve requests during the migration, continue?`);
    out("🤖 Using fallback value in non-interactive context: yes");
    applied.push(...todo);
    save();
    out(table(todo.map((name) => ({ name, status: "✅" }))));
    break;
  }
  case "r2 bucket list": {
    printBanner();
    out("Listing buckets...");
    out(account.buckets.map((name) => `name:           ${name}\ncreation_date:  2026-04-26T00:00:00.000Z`).join("\n\n"));
    break;
  }
  case "r2 bucket create": {
    const name = positional[3] ?? fail("Not enough non-option arguments");
    if (account.buckets.includes(name))
      fail("A request to the Cloudflare API failed.\n\n  The bucket you tried to create already exists, and you own it. [code: 10004]");
    account.buckets.push(name);
    save();
    printBanner();
    out(`Creating bucket '${name}'...\n✅ Created bucket '${name}' with default storage class of Standard.`);
    break;
  }
  case "queues list": {
    const page = Number(flag("--page") ?? 1);
    const rows = account.queues.slice((page - 1) * QUEUES_PAGE_SIZE, page * QUEUES_PAGE_SIZE);
    printBanner();
    const info = (/** @type {string} */ name) => ({
      id: name.replace(/\W/g, "").padEnd(32, "0"),
      name,
      created_on: "2026-04-26T00:00:00Z",
      modified_on: "2026-04-26T00:00:00Z",
      producers: "0",
      consumers: "0",
    });
    out(rows.length ? table(rows.map(info)) : "┌┐\n└┘");
    break;
  }
  case "queues create": {
    const name = positional[2] ?? fail("Not enough non-option arguments");
    if (account.queues.includes(name)) fail(`A request to the Cloudflare API failed.\n\n  Queue name '${name}' is already taken [code: 11009]`);
    account.queues.push(name);
    save();
    printBanner();
    out(`🌀 Creating queue '${name}'\n✅ Created queue '${name}'`);
    break;
  }
  case "secret list": {
    if (!account.worker) fail(`Worker "${config().name}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`);
    out(
      JSON.stringify(
        Object.keys(account.secrets).map((name) => ({ name, type: "secret_text" })),
        null,
        "  ",
      ),
    );
    break;
  }
  case "secret put": {
    const name = positional[2] ?? fail("Not enough non-option arguments");
    const worker = config().name;
    printBanner();
    if (!account.worker) {
      out(`🌀 Creating new Worker "${worker}"...`);
      account.worker = "draft";
    }
    out(`🌀 Creating the secret for the Worker "${worker}" `);
    account.secrets[name] = (stdin ?? "").replace(/\s+$/, "");
    save();
    out(`✨ Success! Uploaded secret ${name}`);
    break;
  }
  case "deploy": {
    const cfg = config();
    for (const d of cfg.d1)
      if (!account.databases.some((db) => db.uuid === d.id)) fail(`A request to the Cloudflare API failed.\n\n  D1 database ${d.id} not found [code: 10181]`);
    for (const b of cfg.buckets)
      if (!account.buckets.includes(b ?? "")) fail(`A request to the Cloudflare API failed.\n\n  R2 bucket '${b}' not found [code: 10085]`);
    for (const q of cfg.queues) if (!account.queues.includes(q)) fail(`Queue "${q}" does not exist. To create it, run: wrangler queues create ${q}`);
    account.worker = "deployed";
    account.deploys += 1;
    save();
    printBanner();
    out("Total Upload: 812.34 KiB / gzip: 160.12 KiB\nWorker Startup Time: 25 ms");
    out(
      `Your Worker has access to the following bindings:\nBinding                Resource\nenv.DB (batch-calls)   D1 Database\nenv.TWILIO_API_BASE_URL ("https://api.twilio.com")   Environment Variable\n`,
    );
    out(`Uploaded ${cfg.name} (4.20 sec)\nDeployed ${cfg.name} triggers (1.10 sec)`);
    out(`  ${env.FAKE_WRANGLER_URL ?? `https://${cfg.name}.example.workers.dev`}\n  schedule: */15 * * * *`);
    for (const q of cfg.producers) out(`  Producer for ${q}`);
    for (const q of cfg.consumers) out(`  Consumer for ${q}`);
    out(`Current Version ID: ${randomUUID()}`);
    break;
  }
  default:
    fail(`stand-in: unknown command ${argv.join(" ")}`);
}
