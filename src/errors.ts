import type { ContentfulStatusCode } from "hono/utils/http-status";
import { clip } from "./lib/text";

/** Every error code the API emits, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  missing_workspace: 400,
  missing_file: 400,
  missing_agent_id: 400,
  multipart_boundary_missing: 400,
  invalid_scheduled_at: 400,
  invalid_smart_callback_config: 400,
  invalid_calling_window: 400,
  csv_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  agent_not_found: 404,
  batch_not_found: 404,
  idempotency_conflict: 409,
  invalid_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_mismatch: 422,
  internal_error: 500,
  batch_start_failed: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The one error type routes throw; `app.onError` turns it into the contract's body. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_STATUS[code];
  }
}

/** Longest client value (an id, a phone number, a cell, a field name) echoed back in an error. */
export const MAX_ECHO_CHARS = 100;
/** Longest `error` sentence; a longer one keeps its start and its end (where the fix usually is). */
export const MAX_ERROR_CHARS = 1000;
/** No error body is larger than this, whatever the request carried (100 ordinary CSV row errors fit). */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;
/** Most entries kept in a `details` array (the contract's cap for CSV row errors). */
const MAX_DETAIL_ENTRIES = 100;
/** Most keys kept per object inside `details`, and how deep it is followed. */
const MAX_DETAIL_KEYS = 20;
const MAX_DETAIL_DEPTH = 4;

/**
 * The `error` sentence, small whatever was interpolated into it: any run of
 * non-space characters longer than MAX_ECHO_CHARS (an echoed id or value)
 * is clipped in place, so the sentence around it still says what to fix;
 * then the whole is capped, keeping its head and tail.
 */
function boundMessage(message: string): string {
  const clipped = message.replace(new RegExp(`\\S{${MAX_ECHO_CHARS + 1},}`, "g"), (run) => clip(run, MAX_ECHO_CHARS));
  if (clipped.length <= MAX_ERROR_CHARS) return clipped;
  const half = MAX_ERROR_CHARS / 2 - 1;
  let tail = clipped.slice(-half);
  if (/^[\uDC00-\uDFFF]/.test(tail)) tail = tail.slice(1);
  return `${clip(clipped, half)} ${tail}`;
}

/** `details` with every string clipped, arrays and objects cut to a bounded size. */
function boundDetails(value: unknown, maxChars: number, depth = 0): unknown {
  if (typeof value === "string") return clip(value, maxChars);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DETAIL_DEPTH) return Array.isArray(value) ? [] : {};
  if (Array.isArray(value)) return value.slice(0, MAX_DETAIL_ENTRIES).map((v) => boundDetails(v, maxChars, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, MAX_DETAIL_KEYS)) out[clip(k, maxChars)] = boundDetails(v, maxChars, depth + 1);
  return out;
}

const byteLength = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).byteLength;

/**
 * The contract's error body, never larger than MAX_ERROR_BODY_BYTES: echoed
 * values are clipped centrally here, so no route can reflect a megabyte back.
 * When `details` is still too big its strings are clipped harder, then its
 * last entries are dropped (totals such as `invalidRows` stay exact).
 */
/** The contract's error body; `extra` fields (e.g. `invalidRows`) sit beside the four named ones. */
export type ErrorBody = { error: string; code: ErrorCode; requestId: string; details?: unknown; [extra: string]: unknown };

export function errorBody(err: ApiError, requestId: string): ErrorBody {
  const base = { error: boundMessage(err.message), code: err.code, requestId: clip(requestId, MAX_ECHO_CHARS) };
  const extra = err.extra === undefined ? {} : (boundDetails(err.extra, MAX_ECHO_CHARS) as Record<string, unknown>);
  if (err.details === undefined) return { ...base, ...extra };
  let details = boundDetails(err.details, MAX_ECHO_CHARS);
  if (byteLength({ ...base, details, ...extra }) > MAX_ERROR_BODY_BYTES) details = boundDetails(err.details, 24);
  if (Array.isArray(details)) {
    const entries = details;
    while (entries.length > 0 && byteLength({ ...base, details: entries, ...extra }) > MAX_ERROR_BODY_BYTES) entries.pop();
  } else if (byteLength({ ...base, details, ...extra }) > MAX_ERROR_BODY_BYTES) {
    return { ...base, ...extra };
  }
  return { ...base, details, ...extra };
}
