import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-factory";
import { randomHex } from "../lib/ids";
import { log } from "../lib/log";

/** Cloudflare's ray id as its edge sets it: 16 lower-case hex digits, then the data centre (e.g. "8f3a1b2c3d4e5f60-LHR"). */
const CF_RAY = /^[0-9a-f]{16}(-[A-Z]{3})?$/;

/**
 * The request's id: its `cf-ray` when that has the ray id's shape (so a log
 * line matches Cloudflare's own logs), otherwise a generated `req_` id.
 * In production the edge sets cf-ray; elsewhere it is whatever the client
 * sent, so anything else — a 5 KB header, a crafted string — is never
 * echoed back or logged. An `x-request-id` sent by the client is ignored.
 */
export function requestIdFor(headers: Headers): string {
  const ray = headers.get("cf-ray");
  return ray !== null && CF_RAY.test(ray) ? ray : `req_${randomHex(8)}`;
}

/** Gives each request its id (answered as `x-request-id`) and logs one line per request. Mounted first, on every path. */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const requestId = requestIdFor(c.req.raw.headers);
  c.set("requestId", requestId);
  const started = Date.now();
  await next();
  c.header("x-request-id", requestId);
  // Bounded: a made-up id in the path is not logged at any length (real ones are 34 characters).
  const batchId = c.req.path.match(/batch_[A-Za-z0-9]{1,40}/)?.[0];
  log("info", "request", {
    requestId,
    workspaceId: c.get("workspaceId"),
    batchId,
    method: c.req.method,
    path: c.req.routePath,
    status: c.res.status,
    ms: Date.now() - started,
  });
});
