import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { addDnc, listDnc, removeDnc } from "../db/dnc.repo";
import { isSupportedRegion, toE164 } from "../domain/phone";
import { ApiError } from "../errors";
import { suppressInLiveBatches } from "../services/dnc";
import { apiKeySecurity, errorResponses, pagination, PaginationQuerySchema, PaginationSchema, workspaceHeaders } from "../schemas/common";

const E164_SHAPE = /^\+[1-9][0-9]{1,14}$/;

/**
 * The number a DELETE path names, in the form the list stores. Hono has
 * already decoded the path; a `%` left in it is an escape that did not
 * decode. It goes through the normaliser POST uses (toE164), after NFKC
 * folds full-width forms to ASCII, so a number written with "＋" or
 * full-width digits is the one POST added. A number the metadata no longer
 * knows is still matched verbatim when it has the E.164 shape, so it can
 * always be removed.
 */
function dncPathNumber(param: string): string {
  if (param.includes("%")) {
    throw new ApiError("bad_request", "The number in the path has a malformed percent-escape; send it in E.164, with + written as %2B or as it is.");
  }
  const trimmed = param.normalize("NFKC").trim();
  const e164 = trimmed.startsWith("+") ? (toE164(trimmed, "US") ?? (E164_SHAPE.test(trimmed) ? trimmed : null)) : null;
  if (!e164) {
    throw new ApiError("validation_failed", `"${trimmed}" is not a phone number in E.164 form, e.g. +14155550100.`);
  }
  return e164;
}

const AddDncSchema = z
  .object({
    phoneNumbers: z.array(z.string()).min(1).max(10000),
    defaultCountry: z
      .string()
      .trim()
      .toUpperCase()
      .refine((cc) => /^[A-Z]{2}$/.test(cc) && isSupportedRegion(cc), "must be an ISO 3166 alpha-2 country code such as US or GB")
      .default("US")
      .describe("ISO 3166 alpha-2, for numbers written without +; default US"),
  })
  .openapi("AddDoNotCall");

const DncEntrySchema = z
  .object({
    phoneNumber: z.string(),
    createdAt: z.string().describe("when the number went on the list (for an opt-out on a call, the same time as source.at)"),
    source: z
      .object({
        batchId: z.string(),
        callId: z.string(),
        at: z.string().describe("when the opt-out was recorded (ISO 8601)"),
      })
      .nullable()
      .describe(
        "the call on which the person asked never to be called again (an agent result's optOut); null for numbers added with POST /v1/api/dnc. The first record of a number stays",
      ),
  })
  .openapi("DoNotCallEntry");

export function dncRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/dnc",
      tags: ["Do-not-call"],
      summary: "Add numbers to the workspace's do-not-call list",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, body: { content: { "application/json": { schema: AddDncSchema } }, required: true } },
      responses: {
        201: {
          description: "Added (numbers already on the list count as skipped)",
          content: { "application/json": { schema: z.object({ added: z.number().int(), skipped: z.number().int() }) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { phoneNumbers, defaultCountry } = c.req.valid("json");
      const e164s: string[] = [];
      const bad: { index: number; value: string }[] = [];
      phoneNumbers.forEach((p, index) => {
        const n = toE164(p, defaultCountry);
        if (n) e164s.push(n);
        else bad.push({ index, value: p });
      });
      if (bad.length)
        throw new ApiError("validation_failed", `${bad.length} of the numbers are not valid phone numbers; nothing was added.`, bad.slice(0, 100));
      const added = await addDnc(c.env.DB, c.get("workspaceId"), e164s, new Date().toISOString());
      await suppressInLiveBatches(c.env, c.get("workspaceId"), e164s);
      return c.json({ added, skipped: phoneNumbers.length - added }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/dnc",
      tags: ["Do-not-call"],
      summary: "List the do-not-call list",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, query: PaginationQuerySchema },
      responses: {
        200: {
          description: "A page of numbers",
          content: {
            "application/json": {
              schema: z.object({ phoneNumbers: z.array(DncEntrySchema), pagination: PaginationSchema }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { page, limit } = c.req.valid("query");
      const { rows, total } = await listDnc(c.env.DB, c.get("workspaceId"), limit, (page - 1) * limit);
      return c.json(
        {
          phoneNumbers: rows.map((r) => ({ phoneNumber: r.phone_number, createdAt: r.created_at, source: r.source })),
          pagination: pagination(page, limit, total),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/dnc/{e164}",
      tags: ["Do-not-call"],
      summary: "Remove a number from the do-not-call list",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        params: z.object({
          e164: z.string().openapi({
            param: {
              name: "e164",
              in: "path",
              description:
                "the number in E.164, URL-encoded (+ as %2B, or as it is); spaces and dashes are ignored, and full-width forms (＋, ０–９) are read as POST reads them",
            },
            example: "+14155550100",
          }),
        }),
      },
      responses: {
        200: { description: "Removed", content: { "application/json": { schema: z.object({ phoneNumber: z.string(), removed: z.literal(true) }) } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const phone = dncPathNumber(c.req.valid("param").e164);
      if (!(await removeDnc(c.env.DB, c.get("workspaceId"), phone))) {
        throw new ApiError("not_found", `${phone} is not on this workspace's do-not-call list.`);
      }
      return c.json({ phoneNumber: phone, removed: true as const }, 200);
    },
  );

  return app;
}
