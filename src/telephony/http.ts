/** `path` after `base` with exactly one slash between them: a configured base URL may or may not end in one. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/$/, "")}${path}`;
}

/**
 * The seconds a 429's Retry-After asks for (the delta-seconds form), or 0
 * when it is missing or unusable: the queue's own backoff applies then.
 */
export function retryAfterSec(res: Response): number {
  const seconds = Number(res.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/**
 * Every outbound request this service makes (dials, Twilio lookups, workspace
 * webhooks) goes through here and never follows a redirect: the URL policy
 * checked the configured URL, and a redirect would carry the request — and
 * its signed body — to a URL nobody checked. A 3xx comes back as it is.
 */
export function fetchNoRedirect(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, redirect: "manual" });
}

/** Longest URL quoted in an error. */
const MAX_URL_CHARS = 200;

/**
 * A URL as an error may quote it: scheme, host and path, without a query
 * or fragment (which may carry a token), and clipped.
 */
export function quotedUrl(raw: string, base?: string): string {
  let shown = raw;
  try {
    const u = new URL(raw, base);
    shown = `${u.origin}${u.pathname}`;
  } catch {
    // not a URL: quoted as it came
  }
  return shown.length > MAX_URL_CHARS ? `${shown.slice(0, MAX_URL_CHARS)}…` : shown;
}

/**
 * A 3xx answer to `url` in words ("answered 307 redirecting to
 * https://…; redirects are not followed"), or null for any other status.
 */
export function redirectRefusal(res: Response, url: string): string | null {
  if (res.status < 300 || res.status > 399) return null;
  const location = res.headers.get("location");
  const to = location ? ` redirecting to ${quotedUrl(location, url)}` : " (a redirect without a Location)";
  return `answered ${res.status}${to}; redirects are not followed`;
}

/**
 * What a request that threw before any response ran into. `timedOut`: our
 * own deadline (a TimeoutError or AbortError) — the request may well have
 * arrived. Otherwise nothing answered at all (workerd throws "Network
 * connection lost." for a refused connection); `message` is the runtime's
 * own words, without a closing period.
 */
export function fetchFailure(err: unknown): { timedOut: boolean; name: string; message: string } {
  const e = (typeof err === "object" && err !== null ? err : {}) as { name?: unknown; message?: unknown };
  const name = typeof e.name === "string" && e.name ? e.name : "Error";
  const message = typeof e.message === "string" && e.message ? e.message.replace(/\.$/, "") : String(err);
  return { timedOut: name === "TimeoutError" || name === "AbortError", name, message };
}
