// @ts-check
/**
 * The deployed Worker's side of `npm run setup:cloudflare`, over HTTP: /healthz, then the first
 * workspace (admin API) and its simulated agent (customer API). What is made is written to the
 * local file at once, so a run that stops later never makes a second workspace.
 */
import { STATE_FILE, say, step } from "./setup-context.mjs";
import { SetupError } from "./setup-wrangler.mjs";

/** @typedef {import("./setup-context.mjs").SetupContext} SetupContext */

/**
 * Until /healthz answers 200: a new workers.dev name can take a while to resolve.
 * @param {SetupContext} ctx
 * @param {string} baseUrl
 * @param {number} waitSeconds
 */
export async function waitForHealth(ctx, baseUrl, waitSeconds) {
  step(ctx, `Checking ${baseUrl}/healthz (trying for up to ${waitSeconds} s)`);
  const deadline = Date.now() + waitSeconds * 1000;
  let last = "";
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/healthz`, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      if (res.ok) return say(ctx, `answered ${res.status}`);
      last = `HTTP ${res.status}`;
    } catch (err) {
      const e = /** @type {Error & { cause?: { code?: string } }} */ (err);
      last = e.cause?.code ?? e.message;
    }
    if (Date.now() >= deadline) {
      throw new SetupError(
        `${baseUrl}/healthz did not answer 200 within ${waitSeconds} s (last: ${last}). The Worker is deployed; look at \`npx wrangler tail\`, then run the script again.`,
      );
    }
    say(ctx, `not yet (${last}); trying again`);
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * One JSON request to the Worker; a network failure stops the script with a sentence.
 * @param {string} method
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {unknown} [body]
 */
async function api(method, url, headers, body) {
  let res;
  try {
    res = await fetch(url, {
      method,
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new SetupError(`${method} ${url} failed: ${/** @type {Error} */ (err).message}`);
  }
  const text = await res.text();
  /** @type {any} */
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: `text` is shown if the status was not the one expected
  }
  return { status: res.status, json, text };
}

/**
 * @param {string} what
 * @param {{ status: number, text: string }} res
 * @param {string} [hint]
 */
const unexpected = (what, res, hint = "") => new SetupError(`${what} answered ${res.status}: ${res.text.slice(0, 500)}${hint ? `\n${hint}` : ""}`);

/**
 * The first workspace and its simulated agent: the ones the local file names if the Worker still has them, else new ones.
 * @param {SetupContext} ctx
 * @param {{ baseUrl: string, adminToken: string | null, name: string }} options
 * @returns {Promise<{ workspaceId: string, apiKey: string, agentId: string } | null>} null: skipped (no admin token known here)
 */
export async function ensureWorkspace(ctx, { baseUrl, adminToken, name }) {
  step(ctx, "First workspace, API key and simulated agent (POST /v1/admin/workspaces, POST /v1/api/agents)");
  if (!adminToken) {
    say(ctx, `skipped: the Worker has an ADMIN_TOKEN this script does not know (it is not in ${STATE_FILE}).`);
    say(ctx, "Run again with ADMIN_TOKEN=<the token> in the environment, or create one by hand:");
    say(ctx, `  curl -s ${baseUrl}/v1/admin/workspaces -H "Authorization: Bearer $ADMIN_TOKEN" -H "content-type: application/json" -d '{"name":"${name}"}'`);
    ctx.summary.skipped.push("first workspace (admin token unknown: give ADMIN_TOKEN)");
    return null;
  }
  const admin = { authorization: `Bearer ${adminToken}` };
  const state = ctx.state;
  if (state.workspaceId && state.apiKey) {
    const res = await api("GET", `${baseUrl}/v1/admin/workspaces/${encodeURIComponent(state.workspaceId)}`, admin);
    if (res.status === 200) {
      say(ctx, `workspace ${state.workspaceId} (from ${STATE_FILE}) exists`);
      ctx.summary.kept.push(`workspace ${state.workspaceId}`);
    } else if (res.status === 404) {
      say(ctx, `workspace ${state.workspaceId} (from ${STATE_FILE}) is not on this Worker any more: making a new one`);
      state.workspaceId = state.apiKey = state.keyId = state.agentId = undefined;
    } else {
      const hint = res.status === 401 ? `The admin token in ${STATE_FILE} (or ADMIN_TOKEN) is not the Worker's: give the right one as ADMIN_TOKEN.` : "";
      throw unexpected(`GET /v1/admin/workspaces/${state.workspaceId}`, res, hint);
    }
  }
  if (!state.workspaceId || !state.apiKey) {
    say(ctx, `creating workspace "${name}"`);
    const res = await api("POST", `${baseUrl}/v1/admin/workspaces`, admin, { name });
    if (res.status !== 201 || typeof res.json?.workspaceId !== "string" || typeof res.json?.apiKey !== "string") {
      throw unexpected("POST /v1/admin/workspaces", res);
    }
    Object.assign(state, { workspaceId: res.json.workspaceId, apiKey: res.json.apiKey, keyId: res.json.keyId, agentId: undefined });
    ctx.saveState();
    say(ctx, `created workspace ${state.workspaceId} with API key ${state.keyId}; both saved in ${STATE_FILE}`);
    ctx.summary.created.push(`workspace ${state.workspaceId}`);
  }
  const workspaceId = /** @type {string} */ (state.workspaceId);
  const apiKey = /** @type {string} */ (state.apiKey);
  const customer = { "x-api-key": apiKey, "x-workspace-id": workspaceId };
  if (state.agentId) {
    const res = await api("GET", `${baseUrl}/v1/api/agents/${encodeURIComponent(state.agentId)}`, customer);
    if (res.status === 200) {
      say(ctx, `agent ${state.agentId} (simulated) exists`);
      ctx.summary.kept.push(`agent ${state.agentId}`);
      return { workspaceId, apiKey, agentId: state.agentId };
    }
    if (res.status !== 404) throw unexpected(`GET /v1/api/agents/${state.agentId}`, res);
    say(ctx, `agent ${state.agentId} is not in the workspace any more: making a new one`);
  }
  say(ctx, "creating a simulated agent (it needs no carrier: a first batch completes with simulated outcomes)");
  const res = await api("POST", `${baseUrl}/v1/api/agents`, customer, { name: "Simulated agent", provider: "simulated" });
  if (res.status !== 201 || typeof res.json?.agentId !== "string") throw unexpected("POST /v1/api/agents", res);
  state.agentId = res.json.agentId;
  ctx.saveState();
  say(ctx, `created agent ${state.agentId}`);
  ctx.summary.created.push(`agent ${state.agentId}`);
  return { workspaceId, apiKey, agentId: res.json.agentId };
}
