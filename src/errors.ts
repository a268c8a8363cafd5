import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code the API emits, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  missing_workspace: 400,
  missing_file: 400,
  missing_agent_id: 400,
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

export function errorBody(err: ApiError, requestId: string) {
  return {
    error: err.message,
    code: err.code,
    requestId,
    ...(err.details === undefined ? {} : { details: err.details }),
    ...err.extra,
  };
}
