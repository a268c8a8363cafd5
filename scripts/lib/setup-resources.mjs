// @ts-check
/**
 * The Cloudflare side of `npm run setup:cloudflare`: login, D1, R2, queues, migrations, deploy.
 * Each looks first and creates only what is missing, so a second run makes nothing new.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { say, step } from "./setup-context.mjs";
import { parseBucketNames, parseCreatedDatabaseId, parseDeployedUrl, parseJsonOutput, parseQueueNames, SetupError } from "./setup-wrangler.mjs";
import { PLACEHOLDER_DATABASE_ID, readWranglerToml, setDatabaseId } from "./wrangler-toml.mjs";

/** @typedef {import("./setup-context.mjs").SetupContext} SetupContext */

/** @param {string[]} names */
const listed = (names) => names.map((n) => `"${n}"`).join(", ");

/**
 * `whoami --json`: the user and accounts, or `{"loggedIn":false}` and a non-zero exit.
 * @param {SetupContext} ctx
 */
export async function checkLogin(ctx) {
  step(ctx, "Checking that wrangler is logged in to Cloudflare (wrangler whoami --json)");
  let output;
  try {
    output = await ctx.wrangler(["whoami", "--json"]);
  } catch (err) {
    if (err instanceof SetupError && /"loggedIn"\s*:\s*false/.test(err.output)) {
      throw new SetupError("wrangler is not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then run this script again.");
    }
    throw err;
  }
  const who = /** @type {{ email?: string, accounts?: { id: string, name: string }[] }} */ (parseJsonOutput(output, "whoami --json"));
  const accounts = (who.accounts ?? []).map((a) => `${a.name} (${a.id})`).join(", ");
  say(ctx, `logged in${who.email ? ` as ${who.email}` : ""}; account${(who.accounts?.length ?? 0) === 1 ? "" : "s"}: ${accounts || "none listed"}`);
}

/**
 * Each D1 database wrangler.toml binds: found by name or created, and its id written into wrangler.toml.
 * @param {SetupContext} ctx
 * @param {string} tomlPath
 */
export async function ensureDatabases(ctx, tomlPath) {
  const { d1 } = readWranglerToml(readFileSync(tomlPath, "utf8"));
  if (d1.length === 0) return;
  step(ctx, `D1 database ${listed(d1.map((db) => db.databaseName))}: looking for it in the account (wrangler d1 list --json)`);
  const existing = /** @type {{ uuid: string, name: string }[]} */ (parseJsonOutput(await ctx.wrangler(["d1", "list", "--json"]), "d1 list --json"));
  for (const db of d1) {
    let id = existing.find((e) => e.name === db.databaseName)?.uuid;
    if (id) {
      say(ctx, `"${db.databaseName}" exists (id ${id})`);
      ctx.summary.kept.push(`D1 database ${db.databaseName}`);
    } else {
      say(ctx, `"${db.databaseName}" is missing: creating it (wrangler d1 create ${db.databaseName})`);
      const output = await ctx.wrangler(["d1", "create", db.databaseName], { show: true });
      id = parseCreatedDatabaseId(output) ?? undefined;
      if (!id)
        throw new SetupError(`\`wrangler d1 create ${db.databaseName}\` printed no database_id; put it into wrangler.toml by hand and run the script again.`);
      say(ctx, `created "${db.databaseName}" (id ${id})`);
      ctx.summary.created.push(`D1 database ${db.databaseName}`);
    }
    if (db.databaseId === id) {
      say(ctx, "wrangler.toml already has this database_id");
      continue;
    }
    writeFileSync(tomlPath, setDatabaseId(readFileSync(tomlPath, "utf8"), db.databaseName, id));
    const was = db.databaseId && db.databaseId !== PLACEHOLDER_DATABASE_ID ? ` (it had ${db.databaseId}, not a database of this account by that name)` : "";
    say(ctx, `wrangler.toml: database_id set to ${id}${was}`);
  }
}

/**
 * @param {SetupContext} ctx
 * @param {string[]} names the bucket names wrangler.toml binds
 */
export async function ensureBuckets(ctx, names) {
  if (names.length === 0) return;
  step(ctx, `R2 bucket ${listed(names)}: looking for it (wrangler r2 bucket list)`);
  const existing = new Set(parseBucketNames(await ctx.wrangler(["r2", "bucket", "list"])));
  for (const name of names) {
    if (existing.has(name)) {
      say(ctx, `"${name}" exists`);
      ctx.summary.kept.push(`R2 bucket ${name}`);
      continue;
    }
    say(ctx, `"${name}" is missing: creating it (wrangler r2 bucket create ${name})`);
    await ctx.wrangler(["r2", "bucket", "create", name], { show: true });
    ctx.summary.created.push(`R2 bucket ${name}`);
  }
}

/**
 * `queues list` shows one page: pages are read until every name is found or a page adds none.
 * @param {SetupContext} ctx
 * @param {string[]} names the queues wrangler.toml produces to, consumes from or dead-letters to
 */
export async function ensureQueues(ctx, names) {
  if (names.length === 0) return;
  step(ctx, `Queues ${listed(names)}: looking for them (wrangler queues list)`);
  /** @type {Set<string>} */
  const existing = new Set();
  for (let page = 1; !names.every((n) => existing.has(n)); page++) {
    const before = existing.size;
    for (const name of parseQueueNames(await ctx.wrangler(["queues", "list", "--page", String(page)]))) existing.add(name);
    if (existing.size === before) break;
  }
  for (const name of names) {
    if (existing.has(name)) {
      say(ctx, `"${name}" exists`);
      ctx.summary.kept.push(`queue ${name}`);
      continue;
    }
    say(ctx, `"${name}" is missing: creating it (wrangler queues create ${name})`);
    await ctx.wrangler(["queues", "create", name], { show: true });
    ctx.summary.created.push(`queue ${name}`);
  }
}

/**
 * Applies what migrations/ holds that the remote database has not had; none is a no-op.
 * @param {SetupContext} ctx
 * @param {string[]} bindings the D1 bindings of wrangler.toml
 */
export async function applyMigrations(ctx, bindings) {
  for (const binding of bindings) {
    step(ctx, `D1 migrations for ${binding}: applying any not yet applied to the remote database (wrangler d1 migrations apply ${binding} --remote)`);
    const output = await ctx.wrangler(["d1", "migrations", "apply", binding, "--remote"], { show: true });
    if (/No migrations to apply/.test(output)) {
      say(ctx, "up to date: nothing applied");
      ctx.summary.kept.push(`D1 migrations of ${binding} (up to date)`);
    } else {
      say(ctx, "applied");
      ctx.summary.created.push(`D1 migrations of ${binding}`);
    }
  }
}

/**
 * Deploys on every run: the code may have changed since the last one, and a deploy of the same code
 * only adds a version. Resources must exist first (a deploy fails on a missing queue).
 * @param {SetupContext} ctx
 * @returns {Promise<string | null>} the workers.dev origin it printed, if any
 */
export async function deploy(ctx) {
  step(ctx, "Deploying the Worker (wrangler deploy; on every run, as the code may have changed)");
  const url = parseDeployedUrl(await ctx.wrangler(["deploy"], { show: true }));
  say(ctx, url ? `deployed: ${url}` : "deployed (wrangler printed no workers.dev URL)");
  return url;
}
