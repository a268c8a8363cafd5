import * as z from "zod";
import "@hono/zod-openapi"; // adds .openapi() to zod schemas
import { BATCH_STATUSES } from "../domain/vocabulary";

/** GET/DELETE /v1/admin/metrics: the engine's counters, for benchmarks. */
export const MetricsSchema = z
  .object({
    enabled: z.boolean().describe("false unless the Worker var METRICS is on"),
    counters: z.record(z.string(), z.number()).describe("d1.statements, rpc.<Class>, rpc.<Class>.<method>, engine.* totals since the last reset"),
    samples: z.record(z.string(), z.array(z.number())).describe("e.g. tick.ms: duration of each scheduler tick"),
  })
  .openapi("Metrics");
export type Metrics = z.infer<typeof MetricsSchema>;

export const EngineBatchIdParam = z.object({
  batchId: z
    .string()
    .max(100)
    .openapi({ param: { name: "batchId", in: "path" } }),
});

/** GET /v1/admin/batches/{batchId}/engine: D1's summary of a batch beside its object's own state. */
export const BatchEngineSchema = z
  .object({
    batchId: z.string(),
    workspaceId: z.string(),
    summary: z.object({
      status: z.enum(BATCH_STATUSES),
      version: z.number().int().describe("the ledger version D1's summary was written from"),
      controlPendingSince: z.string().nullable().describe("a control request the cron's safety net has not checked yet (ISO 8601)"),
    }),
    object: z
      .object({
        status: z.enum(BATCH_STATUSES),
        version: z.number().int().describe("the ledger's version: it grows with every transition"),
        waiting: z.number().int(),
        active: z.number().int(),
        alarmAt: z.string().nullable().describe("when the batch's clock fires next (ISO 8601); null: no alarm"),
        published: z.boolean(),
        materialised: z.boolean(),
      })
      .nullable()
      .describe("null: the batch's object holds nothing (a finished batch from before the ledger moved into objects)"),
    agree: z.boolean().describe("the summary's status is the object's"),
    stranded: z.boolean().describe("queued or processing with calls waiting and no alarm: nothing will move it until the cron's next visit"),
  })
  .openapi("BatchEngine");
export type BatchEngine = z.infer<typeof BatchEngineSchema>;
