import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app";
import { findApiKey } from "../db/api-key.repo";
import { ApiError } from "../errors";
import { sha256Hex, timingSafeEqualStr } from "../lib/crypto";

const KEY_PREFIX = "bck_";
const KEY_ID_LENGTH = 16;

/** `bck_<16-char key id>_<secret>`: the id part finds the row, the secret is compared by hash. */
export function splitApiKey(apiKey: string): { keyId: string; secret: string } | null {
  if (!apiKey.startsWith(KEY_PREFIX) || apiKey[KEY_PREFIX.length + KEY_ID_LENGTH] !== "_") return null;
  const idPart = apiKey.slice(KEY_PREFIX.length, KEY_PREFIX.length + KEY_ID_LENGTH);
  const secret = apiKey.slice(KEY_PREFIX.length + KEY_ID_LENGTH + 1);
  if (!/^[A-Za-z0-9]+$/.test(idPart) || secret.length < 16) return null;
  return { keyId: `key_${idPart}`, secret };
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${KEY_PREFIX}${keyId.slice("key_".length)}_${secret}`;
}

/** Workspace API auth, in the contract's order: 401 no/unknown key, 400 no workspace, 403 someone else's. */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const apiKey = c.req.header("x-api-key");
  if (!apiKey) throw new ApiError("unauthorized", "Send your API key in the x-api-key header.");
  const workspaceId = c.req.header("x-workspace-id");
  if (!workspaceId) throw new ApiError("missing_workspace", "Send your workspace id in the x-workspace-id header.");

  const parts = splitApiKey(apiKey);
  const row = parts ? await findApiKey(c.env.DB, parts.keyId) : null;
  const hash = await sha256Hex(parts?.secret ?? apiKey);
  // Compare even when the row is missing, so timing does not tell which keys exist.
  const matches = timingSafeEqualStr(hash, row?.secret_hash ?? "0".repeat(64));
  if (!row || !matches || row.revoked_at !== null) {
    throw new ApiError("unauthorized", "The API key is unknown or has been revoked.");
  }
  if (row.workspace_id !== workspaceId) {
    throw new ApiError("forbidden", "This API key was issued for another workspace than x-workspace-id.");
  }
  c.set("workspaceId", workspaceId);
  await next();
});

/** Operator routes: 404 when ADMIN_TOKEN is not configured at all, 401 on a wrong token. */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.env.ADMIN_TOKEN;
  if (!token) throw new ApiError("not_found", "No such route.");
  const header = c.req.header("authorization") ?? "";
  const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(token)]);
  if (!timingSafeEqualStr(a, b)) throw new ApiError("unauthorized", "Send Authorization: Bearer <ADMIN_TOKEN>.");
  await next();
});
