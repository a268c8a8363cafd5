// @ts-check
/**
 * The Worker's secrets for `npm run setup:cloudflare`. A secret that is set is never set again
 * (its value cannot be read back to compare); above all SECRETS_ENCRYPTION_KEY, which seals every
 * workspace and agent secret: a new one would make them all unreadable.
 */
import { randomBytes } from "node:crypto";
import { STATE_FILE, say, step } from "./setup-context.mjs";
import { parseJsonOutput, SetupError } from "./setup-wrangler.mjs";

/** @typedef {import("./setup-context.mjs").SetupContext} SetupContext */

/**
 * The names of the secrets the deployed Worker has (`secret list` needs a deployed Worker).
 * @param {SetupContext} ctx
 */
export async function listSecrets(ctx) {
  step(ctx, "Worker secrets: which are set (wrangler secret list --format json)");
  const secrets = /** @type {{ name: string }[]} */ (parseJsonOutput(await ctx.wrangler(["secret", "list", "--format", "json"]), "secret list"));
  const names = new Set(secrets.map((s) => s.name));
  say(ctx, names.size ? `set: ${[...names].sort().join(", ")}` : "none set");
  return names;
}

/**
 * `secret put` reads the value from stdin (never an argument: it would show in `ps`); each put deploys a new version.
 * @param {SetupContext} ctx
 * @param {string} name
 * @param {string} value
 */
async function put(ctx, name, value) {
  await ctx.wrangler(["secret", "put", name], { input: value });
  ctx.summary.created.push(`secret ${name}`);
}

/**
 * @param {SetupContext} ctx
 * @param {string} name
 */
function kept(ctx, name) {
  say(ctx, `${name}: set already, kept`);
  ctx.summary.kept.push(`secret ${name}`);
}

/** @param {string} key */
function isEncryptionKey(key) {
  return /^[A-Za-z0-9+/]{43}=$/.test(key) && Buffer.from(key, "base64").length === 32;
}

/**
 * Sets each missing secret: ADMIN_TOKEN and SECRETS_ENCRYPTION_KEY from the environment or generated,
 * PUBLIC_BASE_URL from `publicBaseUrl`, the Twilio pair from the environment or a question.
 * @param {SetupContext} ctx
 * @param {Set<string>} existing
 * @param {string | null} publicBaseUrl
 * @returns {Promise<string | null>} the admin token to use, if known here
 */
export async function ensureSecrets(ctx, existing, publicBaseUrl) {
  step(ctx, "Worker secrets: setting the missing ones (wrangler secret put NAME, the value on stdin)");
  const adminToken = await ensureAdminToken(ctx, existing);

  if (existing.has("SECRETS_ENCRYPTION_KEY")) {
    say(ctx, "SECRETS_ENCRYPTION_KEY: set already, kept (never replaced: it seals every workspace and agent secret)");
    ctx.summary.kept.push("secret SECRETS_ENCRYPTION_KEY");
  } else {
    const given = ctx.env.SECRETS_ENCRYPTION_KEY;
    if (given !== undefined && !isEncryptionKey(given)) throw new SetupError("SECRETS_ENCRYPTION_KEY in the environment must be 32 bytes, base64-encoded.");
    say(
      ctx,
      `SECRETS_ENCRYPTION_KEY: not set; setting ${given ? "the one given in the environment" : "a new one (32 random bytes, base64; not kept locally)"}`,
    );
    await put(ctx, "SECRETS_ENCRYPTION_KEY", given ?? randomBytes(32).toString("base64"));
  }

  if (existing.has("PUBLIC_BASE_URL")) {
    kept(ctx, "PUBLIC_BASE_URL");
    if (ctx.env.PUBLIC_BASE_URL) say(ctx, "  (the given one is not applied; to change it: npx wrangler secret put PUBLIC_BASE_URL)");
  } else if (publicBaseUrl) {
    say(ctx, `PUBLIC_BASE_URL: not set; setting ${publicBaseUrl}`);
    await put(ctx, "PUBLIC_BASE_URL", publicBaseUrl);
  } else {
    say(ctx, "PUBLIC_BASE_URL: not set, and no origin is known (give --public-url)");
    ctx.summary.skipped.push("secret PUBLIC_BASE_URL (no origin known: give --public-url)");
  }

  for (const name of ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]) {
    if (existing.has(name)) {
      kept(ctx, name);
      continue;
    }
    let value = ctx.env[name];
    if (!value && ctx.ask) value = (await ctx.ask(`  ${name} (only twilio agents need it; Enter skips): `)).trim();
    if (value) {
      say(ctx, `${name}: not set; setting the value ${ctx.env[name] ? "given in the environment" : "entered"}`);
      await put(ctx, name, value);
    } else {
      say(ctx, `${name}: not set, skipped (only twilio agents need it; later: npx wrangler secret put ${name})`);
      ctx.summary.skipped.push(`secret ${name} (no value given)`);
    }
  }
  return adminToken;
}

/**
 * ADMIN_TOKEN: the environment's, else the one the local file remembers, else a new one. A new one is
 * written to the local file before it is set, so a put that fails half-way loses nothing.
 * @param {SetupContext} ctx
 * @param {Set<string>} existing
 */
async function ensureAdminToken(ctx, existing) {
  const known = ctx.env.ADMIN_TOKEN || ctx.state.adminToken || null;
  if (known && known !== ctx.state.adminToken) {
    ctx.state.adminToken = known;
    ctx.saveState();
  }
  if (existing.has("ADMIN_TOKEN")) {
    kept(ctx, "ADMIN_TOKEN");
    return known;
  }
  const token = known ?? randomBytes(32).toString("base64url");
  if (!known) {
    ctx.state.adminToken = token;
    ctx.saveState();
  }
  const source = ctx.env.ADMIN_TOKEN
    ? "the one given in the environment"
    : known
      ? `the one in ${STATE_FILE}`
      : `a new one (32 random bytes), kept in ${STATE_FILE}`;
  say(ctx, `ADMIN_TOKEN: not set; setting ${source}`);
  await put(ctx, "ADMIN_TOKEN", token);
  return token;
}
