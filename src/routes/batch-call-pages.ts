import { createRoute } from "@hono/zod-openapi";
import { newApp } from "../app-factory";
import { decodeCursor } from "../domain/call-cursor";
import { ApiError } from "../errors";
import { BatchIdParam, CallPageQuerySchema, CallPageSchema } from "../schemas/batch";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { requireBatch } from "../services/batch-control";
import { callPage } from "../views/batch";

/** GET …/calls: a batch's calls, by page number (offsets, as existing clients ask) or by cursor; either way a deep page costs what the first does. */
export function batchCallPageRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "get",
      path: "/batch-calls/{batchId}/calls",
      tags: ["Batches"],
      summary: "The calls of a batch, in file order",
      description:
        "Pages are offsets: page n holds calls (n-1)·limit + 1 … n·limit of those matching the filter, and always every one of them. " +
        "(ext) Or walk by cursor: each page has `nextCursor` (null on the last page); pass it as `after` for the calls after that page's last, in file order. " +
        "A cursor keeps its place while calls change status (page n counts the matching calls as they are now); with `after`, pagination.page is 0 " +
        "(a cursor has no page number), hasPrev is true and hasNext says whether nextCursor is set; total and totalPages are as in page mode. " +
        "A page's calls take at most 1 MiB of JSON: when whole rows would take more (a wide file), a call that does not fit carries a metadata excerpt " +
        "(the file's first 10 columns, names and values cut to 100 characters with …), or as a last resort `{}`, marked `metadataTruncated: true`; " +
        "every call gets its excerpt before any gets its whole row. pagination (total, totalPages, hasNext) is unchanged by this. " +
        "To read a marked call whole, ask for it alone (limit=1, page=its position) or read results.csv, which has every column of every row. " +
        "Each call carries the agent's `result` (null until one is reported; its transcript as a link); on a full page a result may come without its summary " +
        "and data, marked `resultTruncated` (GET …/calls/{callId} has it whole). " +
        "`disposition` keeps only calls whose latest disposition is that label; its pagination.total is that label's counter (as in /status dispositions). " +
        "Filter by status or by disposition, one at a time: both together is a 400. A cursor of another batch or another filter, or not a cursor, is a 400.",
      security: apiKeySecurity,
      request: { headers: workspaceHeaders, params: BatchIdParam, query: CallPageQuerySchema },
      responses: {
        200: { description: "A page of calls", content: { "application/json": { schema: CallPageSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { page, limit, status, disposition, after } = c.req.valid("query");
      // A disposition's total is its counter; no counter holds a status and a disposition together, and the ledger is never counted by scan.
      if (disposition !== undefined && status !== "all") {
        throw new ApiError("bad_request", "Filter by status or by disposition, one at a time: drop status (or set it to all) when you give disposition.");
      }
      if (after !== undefined && page !== 1) {
        throw new ApiError("bad_request", "Give page or after, not both: after (a page's nextCursor) already says where the page starts.");
      }
      const b = await requireBatch(c.env.DB, c.get("workspaceId"), c.req.valid("param").batchId);
      const filter = { status: status === "all" ? null : status, disposition: disposition ?? null };
      const afterSeq = after === undefined ? null : decodeCursor(b.id, filter, after);
      if (after !== undefined && afterSeq === null) {
        throw new ApiError(
          "bad_request",
          "after is not a cursor of this listing: pass the nextCursor of a page of this batch with the same status and disposition, or leave after out to start at the first call.",
        );
      }
      const scheduler = c.env.BATCH_SCHEDULER.getByName(b.id);
      const found = await scheduler.listCalls(filter.status, limit, (page - 1) * limit, undefined, filter.disposition, afterSeq);
      return c.json(callPage(b, found, status, after === undefined ? page : null, limit, filter.disposition), 200);
    },
  );

  return app;
}
