import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-factory";
import { findApiKey } from "../db/api-key.repo";
import { ApiError } from "../errors";
import { splitApiKey } from "../lib/api-key";
import { sha256Hex, timingSafeEqualStr } from "../lib/crypto";

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
