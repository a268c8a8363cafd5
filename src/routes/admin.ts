import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { newApp } from "../app-factory";
import { insertApiKey, revokeApiKey } from "../db/api-key.repo";
import { getWorkspaceWithKeys, insertWorkspaceWithKey, setWebhookSecret, toWorkspace, updateWorkspace } from "../db/workspace.repo";
import { ApiError } from "../errors";
import { encryptSecret, sha256Hex, toBase64Url } from "../lib/crypto";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { newWebhookSecret } from "../lib/signing";
import { tenantUrlProblem } from "../lib/url-policy";
import { metricsSnapshot, resetMetrics } from "../lib/metrics";
import { formatApiKey } from "../lib/api-key";
import { adminSecurity, errorResponses } from "../schemas/common";
import { RateLimitsSchema, WorkspaceDetailSchema, WorkspaceSchema } from "../schemas/workspace";
import { isIanaTimeZone } from "../domain/timezone";
import { summaryById } from "../db/batch.repo";
import { BATCH_STATUSES } from "../domain/vocabulary";

const webhookUrlDoc =
  "where outbound events are POSTed. Outside development: https only, no user:password@, " +
  "and no loopback, private, link-local or metadata host (400 says which rule failed).";

const CreateWorkspaceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    rateLimits: RateLimitsSchema.partial().optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe(webhookUrlDoc),
    timezone: z.string().refine(isIanaTimeZone, "must be an IANA time zone").optional(),
  })
  .openapi("CreateWorkspace");

const PatchWorkspaceSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    rateLimits: RateLimitsSchema.partial().optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable()
      .optional()
      .describe(`${webhookUrlDoc} null removes it.`),
    timezone: z.string().refine(isIanaTimeZone, "must be an IANA time zone").nullable().optional(),
  })
  .openapi("PatchWorkspace");

const WorkspaceIdParam = z.object({ workspaceId: z.string().openapi({ param: { name: "workspaceId", in: "path" } }) });

const noWorkspace = (workspaceId: string) => new ApiError("not_found", `Workspace ${workspaceId} does not exist.`);

/** A tenant-supplied webhookUrl must pass the URL policy (zod has already checked it parses). */
function checkWebhookUrl(url: string | null | undefined, env: Env): void {
  if (url == null) return;
  const problem = tenantUrlProblem("webhookUrl", url, env);
  if (problem) throw new ApiError("validation_failed", problem);
}

/** A Standard Webhooks secret: shown to the operator once, stored only encrypted. */
async function sealedWebhookSecret(env: Env): Promise<{ plain: string; sealed: string }> {
  const encKey = env.SECRETS_ENCRYPTION_KEY;
  if (!encKey) throw new Error("SECRETS_ENCRYPTION_KEY is not configured");
  const plain = newWebhookSecret();
  return { plain, sealed: await encryptSecret(plain, encKey) };
}

async function newKey(): Promise<{ keyId: string; apiKey: string; secretHash: string }> {
  const keyId = `key_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32))).replace(/[-_]/g, "x");
  return { keyId, apiKey: formatApiKey(keyId, secret), secretHash: await sha256Hex(secret) };
}

export function adminRoutes() {
  const app = newApp();

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces",
      tags: ["Admin"],
      summary: "Create a workspace with its first API key",
      security: adminSecurity,
      request: { body: { content: { "application/json": { schema: CreateWorkspaceSchema } }, required: true } },
      responses: {
        201: {
          description: "Created. `apiKey` and `webhookSecret` are shown only here.",
          content: {
            "application/json": {
              schema: WorkspaceSchema.extend({ apiKey: z.string(), keyId: z.string(), webhookSecret: z.string() }),
            },
          },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      checkWebhookUrl(body.webhookUrl, c.env);
      const secret = await sealedWebhookSecret(c.env);
      const key = await newKey();
      const row = {
        id: newId("ws"),
        name: body.name,
        calls_per_second: body.rateLimits?.callsPerSecond ?? 1,
        max_concurrent_calls: body.rateLimits?.maxConcurrentCalls ?? 10,
        webhook_url: body.webhookUrl ?? null,
        webhook_secret_enc: secret.sealed,
        timezone: body.timezone ?? null,
        created_at: new Date().toISOString(),
      };
      await insertWorkspaceWithKey(c.env.DB, row, { id: key.keyId, secretHash: key.secretHash });
      log("info", "workspace.created", { requestId: c.get("requestId"), workspaceId: row.id });
      return c.json({ ...toWorkspace(row), keyId: key.keyId, apiKey: key.apiKey, webhookSecret: secret.plain }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/workspaces/{workspaceId}",
      tags: ["Admin"],
      summary: "Read a workspace back: limits, webhook URL, time zone and its API keys' ids and state (never a secret)",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        200: { description: "The workspace", content: { "application/json": { schema: WorkspaceDetailSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { workspaceId } = c.req.valid("param");
      const found = await getWorkspaceWithKeys(c.env.DB, workspaceId);
      if (!found) throw noWorkspace(workspaceId);
      return c.json({ ...toWorkspace(found.row), apiKeys: found.keys }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{workspaceId}/webhook-secret",
      tags: ["Admin"],
      summary: "Rotate the workspace's outbound webhook signing secret",
      description:
        "The old secret stops signing at once: every delivery from now on, retries of earlier events included, " +
        "is signed with the new one, so give the new secret to the receiver's verifier straight away.",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        200: {
          description: "Rotated. `webhookSecret` (Standard Webhooks `whsec_<base64 key>` form) is shown only here.",
          content: { "application/json": { schema: z.object({ workspaceId: z.string(), webhookSecret: z.string() }).openapi("RotatedWebhookSecret") } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { workspaceId } = c.req.valid("param");
      const secret = await sealedWebhookSecret(c.env);
      if (!(await setWebhookSecret(c.env.DB, workspaceId, secret.sealed))) throw noWorkspace(workspaceId);
      log("info", "workspace.webhook_secret_rotated", { requestId: c.get("requestId"), workspaceId });
      return c.json({ workspaceId, webhookSecret: secret.plain }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/workspaces/{workspaceId}",
      tags: ["Admin"],
      summary: "Change a workspace's name, limits, webhook or time zone",
      security: adminSecurity,
      request: { params: WorkspaceIdParam, body: { content: { "application/json": { schema: PatchWorkspaceSchema } }, required: true } },
      responses: {
        200: { description: "The workspace as it now is", content: { "application/json": { schema: WorkspaceSchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { workspaceId } = c.req.valid("param");
      const body = c.req.valid("json");
      checkWebhookUrl(body.webhookUrl, c.env);
      const row = await updateWorkspace(c.env.DB, workspaceId, {
        name: body.name,
        callsPerSecond: body.rateLimits?.callsPerSecond,
        maxConcurrentCalls: body.rateLimits?.maxConcurrentCalls,
        webhookUrl: body.webhookUrl,
        timezone: body.timezone,
      });
      if (!row) throw noWorkspace(workspaceId);
      log("info", "workspace.updated", { requestId: c.get("requestId"), workspaceId });
      return c.json(toWorkspace(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{workspaceId}/api-keys",
      tags: ["Admin"],
      summary: "Issue another API key for a workspace",
      security: adminSecurity,
      request: { params: WorkspaceIdParam },
      responses: {
        201: {
          description: "Created. `apiKey` is shown only here.",
          content: { "application/json": { schema: z.object({ keyId: z.string(), apiKey: z.string(), workspaceId: z.string() }) } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { workspaceId } = c.req.valid("param");
      const key = await newKey();
      const issued = await insertApiKey(c.env.DB, {
        id: key.keyId,
        workspace_id: workspaceId,
        secret_hash: key.secretHash,
        created_at: new Date().toISOString(),
      });
      if (!issued) throw noWorkspace(workspaceId);
      log("info", "api_key.created", { requestId: c.get("requestId"), workspaceId, keyId: key.keyId });
      return c.json({ keyId: key.keyId, apiKey: key.apiKey, workspaceId }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/workspaces/{workspaceId}/api-keys/{keyId}",
      tags: ["Admin"],
      summary: "Revoke an API key (revoking twice is harmless)",
      security: adminSecurity,
      request: { params: WorkspaceIdParam.extend({ keyId: z.string().openapi({ param: { name: "keyId", in: "path" } }) }) },
      responses: {
        200: {
          description: "Revoked",
          content: { "application/json": { schema: z.object({ keyId: z.string(), revoked: z.literal(true) }) } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { workspaceId, keyId } = c.req.valid("param");
      if (!(await revokeApiKey(c.env.DB, workspaceId, keyId, new Date().toISOString()))) {
        throw new ApiError("not_found", `Key ${keyId} does not exist in workspace ${workspaceId}.`);
      }
      log("info", "api_key.revoked", { requestId: c.get("requestId"), workspaceId, keyId });
      return c.json({ keyId, revoked: true as const }, 200);
    },
  );

  const MetricsSchema = z
    .object({
      enabled: z.boolean().describe("false unless the Worker var METRICS is on"),
      counters: z.record(z.string(), z.number()).describe("d1.statements, rpc.<Class>, rpc.<Class>.<method>, engine.* totals since the last reset"),
      samples: z.record(z.string(), z.array(z.number())).describe("e.g. tick.ms: duration of each scheduler tick"),
    })
    .openapi("Metrics");
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

  const EngineSchema = z
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
      request: {
        params: z.object({
          batchId: z
            .string()
            .max(100)
            .openapi({ param: { name: "batchId", in: "path" } }),
        }),
      },
      responses: {
        200: { description: "Both sides of the batch", content: { "application/json": { schema: EngineSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { batchId } = c.req.valid("param");
      const summary = await summaryById(c.env.DB, batchId);
      if (!summary) throw new ApiError("not_found", `Batch ${batchId} does not exist.`);
      const object = await c.env.BATCH_SCHEDULER.getByName(batchId).engineState();
      const live = object !== null && (object.status === "queued" || object.status === "processing");
      return c.json(
        {
          batchId,
          workspaceId: summary.workspace_id,
          summary: {
            status: summary.status,
            version: summary.summary_version,
            controlPendingSince: summary.control_at === null ? null : new Date(summary.control_at).toISOString(),
          },
          object: object && {
            status: object.status,
            version: object.version,
            waiting: object.waiting,
            active: object.active,
            alarmAt: object.alarmAt,
            published: object.published,
            materialised: object.materialised,
          },
          agree: object === null || object.status === summary.status,
          stranded: live && object.waiting + object.active > 0 && object.alarmAt === null,
        },
        200,
      );
    },
  );

  return app;
}
