import { createRoute } from "@hono/zod-openapi";
import { newApp } from "../app-factory";
import { metricsSnapshot, resetMetrics } from "../lib/metrics";
import { BatchEngineSchema, EngineBatchIdParam, MetricsSchema } from "../schemas/admin";
import { adminSecurity, errorResponses } from "../schemas/common";
import { batchEngine } from "../services/batch-engine";

/** /v1/admin, the engine's insides: counters for the bench, and one batch's engine for an operator after an incident. */
export function adminEngineRoutes() {
  const app = newApp();

  for (const method of ["get", "delete"] as const) {
    app.openapi(
      createRoute({
        method,
        path: "/metrics",
        tags: ["Admin"],
        summary: method === "get" ? "Engine counters for benchmarks (METRICS=on only)" : "Reset the engine counters",
        security: adminSecurity,
        responses: { 200: { description: "Counters", content: { "application/json": { schema: MetricsSchema } } }, ...errorResponses(401) },
      }),
      (c) => {
        const snap = metricsSnapshot();
        if (method === "delete") resetMetrics();
        return c.json({ enabled: c.env.METRICS === "on", ...snap }, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/batches/{batchId}/engine",
      tags: ["Admin"],
      summary: "A batch's engine: D1's summary beside its object's status, counters and next alarm",
      description:
        "For operators checking a batch after an incident: the object is the truth, and the cron's safety net " +
        "(every 15 minutes) rewrites a summary that disagrees and restores a missing alarm.",
      security: adminSecurity,
      request: { params: EngineBatchIdParam },
      responses: {
        200: { description: "Both sides of the batch", content: { "application/json": { schema: BatchEngineSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => c.json(await batchEngine(c.env, c.req.valid("param").batchId), 200),
  );

  return app;
}
