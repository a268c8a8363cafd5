// @ts-check
// The API client: credentials, JSON requests, and an SSE reader.
// Credentials live in sessionStorage only (this tab, cleared on sign-out or
// when the tab closes) and travel as the API's usual headers — never in a
// URL, where they would end up in history and server logs, nor in a cookie.

/** @typedef {import("./types.js").Credentials} Credentials */
/** @typedef {import("./types.js").ErrorBody} ErrorBody */

const WS = "bc.workspaceId";
const KEY = "bc.apiKey";

export const session = {
  /** @returns {Credentials | null} */
  get: () => {
    const workspaceId = sessionStorage.getItem(WS);
    const apiKey = sessionStorage.getItem(KEY);
    return workspaceId && apiKey ? { workspaceId, apiKey } : null;
  },
  /**
   * @param {string} workspaceId
   * @param {string} apiKey
   */
  set: (workspaceId, apiKey) => {
    sessionStorage.setItem(WS, workspaceId);
    sessionStorage.setItem(KEY, apiKey);
  },
  clear: () => {
    sessionStorage.removeItem(WS);
    sessionStorage.removeItem(KEY);
  },
};

/** An error answer from the API: `message` is its plain-sentence `error`, `details` its row errors etc. */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server could not be reached
   * @param {ErrorBody | null} body
   */
  constructor(status, body) {
    super(body?.error ?? `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code;
    this.details = body?.details;
    this.body = body;
  }
}

/**
 * Called when the API says the key is no longer good (401), so the app can show the sign-in form.
 * @type {(err: ApiError) => void}
 */
let onUnauthorized = () => {};
/** @param {(err: ApiError) => void} fn */
export const setUnauthorizedHandler = (fn) => (onUnauthorized = fn);

/**
 * @param {Credentials | null} [creds]
 * @returns {Record<string, string>}
 */
function authHeaders(creds = session.get()) {
  return creds ? { "x-workspace-id": creds.workspaceId, "x-api-key": creds.apiKey } : {};
}

/**
 * @typedef {object} RequestOptions
 * @property {string} [method]
 * @property {unknown} [json] sent as a JSON body
 * @property {BodyInit} [body] sent as it is (e.g. FormData)
 * @property {Record<string, string>} [headers]
 * @property {Credentials} [creds] instead of the session's (signing in); a 401 then does not sign out
 * @property {AbortSignal} [signal]
 * @property {boolean} [raw] resolve to the Response, not its JSON
 */

/**
 * @overload
 * @param {string} path
 * @param {RequestOptions & { raw: true }} options
 * @returns {Promise<Response>}
 */
/**
 * The answer's JSON (null for a 204), typed by the caller: `@type {Batch}` on what it is assigned to.
 * @template [T=unknown]
 * @overload
 * @param {string} path
 * @param {RequestOptions & { raw?: false }} [options]
 * @returns {Promise<T>}
 */
/**
 * fetch() against /v1/api with the credentials; throws ApiError on a non-2xx.
 * `json` is sent as a JSON body; `body` (e.g. FormData) as it is.
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<unknown>}
 */
export async function request(path, { method = "GET", json, body, headers = {}, creds, signal, raw = false } = {}) {
  /** @type {Record<string, string>} */
  const sent = { ...authHeaders(creds), ...headers };
  /** @type {RequestInit} */
  const init = { method, signal, headers: sent };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    sent["content-type"] = "application/json";
  } else if (body !== undefined) init.body = body;
  let res;
  try {
    res = await fetch(`/v1/api${path}`, init);
  } catch (err) {
    if (typeof err === "object" && err !== null && "name" in err && err.name === "AbortError") throw err;
    throw new ApiError(0, { error: "The server could not be reached; check your connection and try again." });
  }
  if (res.ok) return raw ? res : res.status === 204 ? null : res.json();
  const data = await res.json().catch(() => null);
  if (res.status === 401 && !creds) onUnauthorized(new ApiError(401, data));
  throw new ApiError(res.status, data);
}

/**
 * Reads a text/event-stream with fetch (EventSource can't send headers).
 * Calls onEvent(name, data, id) per event; resolves when the server ends the
 * stream, rejects if it fails. A block is a run of lines ended by a blank
 * line: `event:`, `data:` (several are joined with "\n"), `id:`; lines
 * starting with ":" are heartbeats.
 */
/**
 * @param {string} path
 * @param {object} options
 * @param {string | null} [options.lastEventId] resume after this event
 * @param {AbortSignal} [options.signal]
 * @param {(name: string, data: unknown, id: string | null) => void} options.onEvent `data` is the event's JSON
 * @returns {Promise<void>}
 */
export async function readEvents(path, { lastEventId, signal, onEvent }) {
  /** @type {Record<string, string>} */
  const headers = lastEventId ? { "last-event-id": lastEventId } : {};
  const res = await request(path, { headers: { accept: "text/event-stream", ...headers }, signal, raw: true });
  if (!res.body) throw new TypeError("The event stream answered without a body.");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    // CRLF is joined after appending, so a pair split across two chunks is still one line end.
    buffer = (buffer + value).replace(/\r\n/g, "\n");
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      let id = null;
      const data = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = val;
        else if (field === "data") data.push(val);
        else if (field === "id") id = val;
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")), id);
    }
  }
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The part after /v1/api of a link the API gave (a path, or a whole URL), for request();
 * null when it is not an API link. Only the path is kept, so the API headers (the key)
 * go to this page's own origin whatever host the link names.
 * @param {string} link
 */
export function apiPathOf(link) {
  // The base only lets a bare path parse; its host is dropped with the link's.
  const base = "http://api.invalid";
  if (!URL.canParse(link, base)) return null;
  const url = new URL(link, base);
  return url.pathname.startsWith("/v1/api/") ? url.pathname.slice("/v1/api".length) + url.search : null;
}
