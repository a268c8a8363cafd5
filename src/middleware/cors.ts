import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-factory";
import { log } from "../lib/log";

/** What a browser client of /v1/api sends and needs to read back. */
const ALLOW_METHODS = ["GET", "POST", "DELETE"];
const ALLOW_HEADERS = ["x-api-key", "x-workspace-id", "idempotency-key", "content-type"];
// content-disposition names the results.csv download; x-request-id is what support asks for;
// idempotent-replayed tells a re-sent upload's answer from a first one.
const EXPOSE_HEADERS = ["content-disposition", "x-request-id", "idempotent-replayed"];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

let parsed: { raw: string; origins: Set<string> } | undefined;

/**
 * The deployment's CORS_ORIGINS as a set of exact origins. An entry that is
 * not an origin (a typo, "*") is dropped with a warning rather than widening
 * the list. Parsed once per distinct value.
 */
export function allowedOrigins(raw: string | undefined): Set<string> {
  const value = raw ?? "";
  if (parsed?.raw === value) return parsed.origins;
  const origins = new Set<string>();
  for (const entry of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const url = URL.canParse(entry) ? new URL(entry) : null;
    if (url && (url.protocol === "https:" || url.protocol === "http:")) origins.add(url.origin);
    else log("warn", "cors.bad_origin", { entry: entry.slice(0, 200) });
  }
  parsed = { raw: value, origins };
  return origins;
}

// Only ever handed an origin already on the list, so it echoes that origin.
const allowedCors = cors({
  origin: (origin) => origin,
  allowMethods: ALLOW_METHODS,
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: PREFLIGHT_MAX_AGE_SECONDS,
});

/**
 * CORS for browser-facing routes, off unless CORS_ORIGINS lists origins.
 * Mounted before auth: a preflight carries no API key, so it is answered
 * here and never reaches the 401. A listed origin gets the CORS headers;
 * any other origin gets none (its preflight a bare 204), so the browser
 * refuses the call.
 */
export const apiCors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  const origins = allowedOrigins(c.env.CORS_ORIGINS);
  if (origin !== undefined && origins.has(origin)) return allowedCors(c, next);
  const preflight = c.req.method === "OPTIONS" && origin !== undefined && c.req.header("access-control-request-method") !== undefined;
  if (preflight) {
    if (origins.size > 0) c.header("vary", "Origin");
    return c.body(null, 204);
  }
  await next();
  // The answer depends on Origin once CORS is on: caches must keep them apart.
  if (origins.size > 0) c.header("vary", "Origin", { append: true });
});
