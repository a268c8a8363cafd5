import { createRoute } from "@hono/zod-openapi";
import { newApp } from "../app-factory";
import { BatchIdParam, BatchSchema } from "../schemas/batch";
import { apiKeySecurity, errorResponses, workspaceHeaders } from "../schemas/common";
import { EditBatchSchema, editBatch } from "../services/batch-edit";

/** PATCH /batch-calls/{batchId}: a batch's settings, changed before it starts or while it is paused. */
export function batchEditRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "patch",
      path: "/batch-calls/{batchId}",
      tags: ["Batches"],
      summary: "Edit a batch while it is a draft, queued or paused (ext)",
      description:
        "Changes only the fields sent, each checked by the same rules as at upload (callingWindow, smartCallbackConfig and stopRules as JSON objects here, " +
        "not JSON in strings); `null` clears name, callingWindow, maxConcurrentCalls, smartCallbackConfig, stopRules, preDialUrl or maxMinutes. An unknown field is a 400. " +
        "Only a draft, queued or paused batch can be edited: any other status is a 409 naming the states that allow it (pause a processing batch first). " +
        "The next attempts use the new settings; an attempt already handed out keeps the settings it was handed out with, and no attempt mixes the two. " +
        "agentId must be a live agent of this workspace (the batch dials through it as it is now); scheduledAt moves a draft's or queued batch's start " +
        "and is a 400 for a paused batch, which has already started; maxConcurrentCalls is at most the workspace's. A new stopRules starts a fresh window. " +
        "preDialOnError alone changes the policy of the batch's current pre-dial check. maxMinutes (a whole number from 1 to 1,000,000, or null for " +
        "no budget) sets the budget; a batch paused for its budget resumes only by POST …/resume, once maxMinutes is above its billedMinutes. " +
        "Sending the same edit again answers the same way.",
      security: apiKeySecurity,
      request: {
        headers: workspaceHeaders,
        params: BatchIdParam,
        body: { content: { "application/json": { schema: EditBatchSchema } }, required: true },
      },
      responses: {
        200: { description: "The batch as it now is (as GET shows it)", content: { "application/json": { schema: BatchSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const ctx = { workspaceId: c.get("workspaceId"), requestId: c.get("requestId") };
      return c.json(await editBatch(c.env, ctx, c.req.valid("param").batchId, c.req.valid("json")), 200);
    },
  );

  return app;
}
