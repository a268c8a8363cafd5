import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas

export const ErrorSchema = z
  .object({
    error: z.string().describe("what went wrong and what to fix, as a sentence"),
    code: z.string().describe("snake_case error code"),
    requestId: z.string(),
    details: z.unknown().optional(),
  })
  .openapi("Error");

const ERROR_TEXT: Record<number, string> = {
  400: "The request is invalid; `error` says what to fix",
  401: "x-api-key (or the admin bearer token) is missing, unknown or revoked",
  403: "The API key belongs to another workspace",
  404: "Not found in this workspace",
  409: "Conflicts with the resource's current state or a request still running",
  413: "The body or file is over 20 MiB",
  415: "The body is not multipart/form-data",
  422: "The Idempotency-Key was used with a different payload",
  500: "The server failed; nothing half-created is left behind",
};

/** OpenAPI response entries for the listed error statuses, all with the contract's error body. */
export function errorResponses(...statuses: (keyof typeof ERROR_TEXT)[]) {
  return Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s]!, content: { "application/json": { schema: ErrorSchema } } }]));
}

export const PaginationQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
});

export const PaginationSchema = z
  .object({
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
    totalPages: z.number().int(),
    hasNext: z.boolean(),
    hasPrev: z.boolean(),
  })
  .openapi("Pagination");

export function pagination(page: number, limit: number, total: number) {
  const totalPages = Math.ceil(total / limit);
  return { page, limit, total, totalPages, hasNext: page < totalPages, hasPrev: page > 1 };
}

export const workspaceHeaders = z.object({
  "x-api-key": z.string().openapi({ description: "API key of the workspace" }),
  "x-workspace-id": z.string().openapi({ description: "The workspace the key was issued for", example: "ws_0190a1b2c3d4e5f60718" }),
});

export const adminSecurity = [{ adminBearer: [] }];
export const apiKeySecurity = [{ apiKey: [], workspaceId: [] }];
