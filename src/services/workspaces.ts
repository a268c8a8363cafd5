import { insertApiKey, revokeApiKey } from "../db/api-key.repo";
import type { ContactPolicy } from "../domain/contact-policy";
import {
  contactPolicyColumn,
  getWorkspaceWithKeys,
  insertWorkspaceWithKey,
  listWorkspaces,
  readWorkspaceView,
  setWebhookSecret,
  toWorkspace,
  updateWorkspace,
} from "../db/workspace.repo";
import { ApiError } from "../errors";
import { formatApiKey } from "../lib/api-key";
import { encryptSecret, sha256Hex, toBase64Url } from "../lib/crypto";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { newWebhookSecret } from "../lib/signing";
import { tenantUrlProblem } from "../lib/url-policy";
import { pagination } from "../schemas/common";
import type {
  CreatedWorkspace,
  CreateWorkspace,
  IssuedApiKey,
  PatchWorkspace,
  RevokedApiKey,
  RotatedWebhookSecret,
  Workspace,
  WorkspaceDetail,
  WorkspaceList,
} from "../schemas/workspace";

/** The operator's calls: workspaces, their API keys and webhook secrets. Every secret is shown once, in the answer that made it. */

const noWorkspace = (workspaceId: string) => new ApiError("not_found", `Workspace ${workspaceId} does not exist.`);

/** A tenant-supplied webhookUrl must pass the URL policy (zod has already checked it parses). */
function checkWebhookUrl(url: string | null | undefined, env: Env): void {
  if (url == null) return;
  const problem = tenantUrlProblem("webhookUrl", url, env);
  if (problem) throw new ApiError("validation_failed", problem);
}

type LimitSource = "sent" | "default" | "current";
const FROM: Record<LimitSource, string> = { sent: "", default: ", the default", current: ", the workspace's current value" };

/**
 * Inbound headroom must leave batches at least one slot: reservedConcurrency
 * below maxConcurrentCalls, whichever of the two the request sent. The
 * sentence names both values and where each came from, so a PATCH that
 * lowers the limit under a standing reservation says why it was refused.
 */
function headroomError(reserved: { value: number; from: LimitSource }, max: { value: number; from: LimitSource }): ApiError {
  return new ApiError(
    "validation_failed",
    `rateLimits.reservedConcurrency (${reserved.value}${FROM[reserved.from]}) must be below rateLimits.maxConcurrentCalls (${max.value}${FROM[max.from]}): ` +
      "batches keep at least one slot. Lower reservedConcurrency, or raise maxConcurrentCalls with it.",
  );
}

/** A Standard Webhooks secret: shown to the operator once, stored only encrypted. */
async function sealedWebhookSecret(env: Env): Promise<{ plain: string; sealed: string }> {
  const encKey = env.SECRETS_ENCRYPTION_KEY;
  if (!encKey) throw new Error("SECRETS_ENCRYPTION_KEY is not configured");
  const plain = newWebhookSecret();
  return { plain, sealed: await encryptSecret(plain, encKey) };
}

/** A new API key: the key as the client sends it, and the hash of its secret, which is all that is stored. */
async function mintApiKey(): Promise<{ keyId: string; apiKey: string; secretHash: string }> {
  const keyId = `key_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32))).replace(/[-_]/g, "x");
  return { keyId, apiKey: formatApiKey(keyId, secret), secretHash: await sha256Hex(secret) };
}

export async function createWorkspace(env: Env, input: CreateWorkspace, requestId: string): Promise<CreatedWorkspace> {
  checkWebhookUrl(input.webhookUrl, env);
  const limits = input.rateLimits;
  const max = limits?.maxConcurrentCalls ?? 10;
  const reserved = limits?.reservedConcurrency ?? 0;
  if (reserved >= max) {
    throw headroomError(
      { value: reserved, from: limits?.reservedConcurrency === undefined ? "default" : "sent" },
      { value: max, from: limits?.maxConcurrentCalls === undefined ? "default" : "sent" },
    );
  }
  const secret = await sealedWebhookSecret(env);
  const key = await mintApiKey();
  const row = {
    id: newId("ws"),
    name: input.name,
    calls_per_second: limits?.callsPerSecond ?? 1,
    max_concurrent_calls: max,
    reserved_concurrency: reserved,
    webhook_url: input.webhookUrl ?? null,
    webhook_secret_enc: secret.sealed,
    timezone: input.timezone ?? null,
    contact_policy: contactPolicyColumn(input.contactPolicy),
    created_at: new Date().toISOString(),
  };
  await insertWorkspaceWithKey(env.DB, row, { id: key.keyId, secretHash: key.secretHash });
  log("info", "workspace.created", { requestId, workspaceId: row.id });
  return { ...toWorkspace(row), keyId: key.keyId, apiKey: key.apiKey, webhookSecret: secret.plain };
}

/** A workspace with its keys' ids and states, never a secret. */
export async function workspaceDetail(db: D1Database, workspaceId: string): Promise<WorkspaceDetail> {
  const found = await getWorkspaceWithKeys(db, workspaceId);
  if (!found) throw noWorkspace(workspaceId);
  return { ...toWorkspace(found.row), apiKeys: found.keys };
}

/** Page `page` of every workspace, newest first; each as GET /workspaces/{id} shows it, without its keys and never a secret. */
export async function workspaceList(db: D1Database, page: number, limit: number): Promise<WorkspaceList> {
  const { rows, total } = await listWorkspaces(db, limit, (page - 1) * limit);
  return { workspaces: rows.map(toWorkspace), pagination: pagination(page, limit, total) };
}

/** The old secret stops signing at once: every delivery from now on is signed with the new one. */
export async function rotateWebhookSecret(env: Env, workspaceId: string, requestId: string): Promise<RotatedWebhookSecret> {
  const secret = await sealedWebhookSecret(env);
  if (!(await setWebhookSecret(env.DB, workspaceId, secret.sealed))) throw noWorkspace(workspaceId);
  log("info", "workspace.webhook_secret_rotated", { requestId, workspaceId });
  return { workspaceId, webhookSecret: secret.plain };
}

/**
 * Changes only what the patch sends. A result whose reservation is not
 * below its limit changes nothing (the update refuses it in the same
 * statement) and is a 400 naming both values.
 */
export async function patchWorkspace(env: Env, workspaceId: string, patch: PatchWorkspace, requestId: string): Promise<Workspace> {
  checkWebhookUrl(patch.webhookUrl, env);
  const limits = patch.rateLimits;
  const done = await updateWorkspace(env.DB, workspaceId, {
    name: patch.name,
    callsPerSecond: limits?.callsPerSecond,
    maxConcurrentCalls: limits?.maxConcurrentCalls,
    reservedConcurrency: limits?.reservedConcurrency,
    webhookUrl: patch.webhookUrl,
    timezone: patch.timezone,
    contactPolicy: patch.contactPolicy,
  });
  if (done.kind === "missing") throw noWorkspace(workspaceId);
  if (done.kind === "no_headroom") {
    const { reserved_concurrency: reserved, max_concurrent_calls: max } = done.current;
    throw headroomError(
      limits?.reservedConcurrency === undefined ? { value: reserved, from: "current" } : { value: limits.reservedConcurrency, from: "sent" },
      limits?.maxConcurrentCalls === undefined ? { value: max, from: "current" } : { value: limits.maxConcurrentCalls, from: "sent" },
    );
  }
  const row = done.row;
  log("info", "workspace.updated", { requestId, workspaceId });
  return toWorkspace(row);
}

/** The workspace as its own key sees it: what the operator sees, without the keys; never a secret. */
export async function ownWorkspace(db: D1Database, workspaceId: string): Promise<Workspace> {
  const row = await readWorkspaceView(db, workspaceId);
  if (!row) throw noWorkspace(workspaceId);
  return toWorkspace(row);
}

/**
 * The one change a workspace's own key may make: its contact policy
 * (replaced whole; null or an empty policy removes it). The engine re-reads
 * it with the rest of the workspace, so it holds from the next attempt.
 */
export async function setContactPolicy(db: D1Database, workspaceId: string, policy: ContactPolicy | null, requestId: string): Promise<Workspace> {
  const done = await updateWorkspace(db, workspaceId, { contactPolicy: policy });
  // A policy leaves the limits alone: only a missing workspace changes nothing.
  if (done.kind !== "updated") throw noWorkspace(workspaceId);
  log("info", "workspace.contact_policy_set", { requestId, workspaceId, policy: done.row.contact_policy });
  return toWorkspace(done.row);
}

export async function issueApiKey(db: D1Database, workspaceId: string, requestId: string): Promise<IssuedApiKey> {
  const key = await mintApiKey();
  const issued = await insertApiKey(db, {
    id: key.keyId,
    workspace_id: workspaceId,
    secret_hash: key.secretHash,
    created_at: new Date().toISOString(),
  });
  if (!issued) throw noWorkspace(workspaceId);
  log("info", "api_key.created", { requestId, workspaceId, keyId: key.keyId });
  return { keyId: key.keyId, apiKey: key.apiKey, workspaceId };
}

/** Revoking twice is harmless; a key the workspace never had is 404. */
export async function revokeKey(db: D1Database, workspaceId: string, keyId: string, requestId: string): Promise<RevokedApiKey> {
  if (!(await revokeApiKey(db, workspaceId, keyId, new Date().toISOString()))) {
    throw new ApiError("not_found", `Key ${keyId} does not exist in workspace ${workspaceId}.`);
  }
  log("info", "api_key.revoked", { requestId, workspaceId, keyId });
  return { keyId, revoked: true };
}
