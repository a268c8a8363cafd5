import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "zod";
import type { AppEnv } from "../app-factory";
import { randomHex } from "../lib/ids";
import { WEBHOOK_EVENT_DATA, WEBHOOK_EVENT_TYPES } from "../queue/webhook-event";
import { docsCsp, docsHtml } from "./docs-page";
import { CAMPAIGN_STORY } from "./docs-story";

export function docsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "apiKey", in: "header", name: "x-api-key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "workspaceId", { type: "apiKey", in: "header", name: "x-workspace-id" });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", { type: "http", scheme: "bearer" });
  const signed = {
    "webhook-id": z.string().openapi({ description: "event id, stable across retries: de-duplicate on it" }),
    "webhook-timestamp": z.string().openapi({ description: "seconds since the epoch, of this delivery" }),
    "webhook-signature": z.string().openapi({ description: "v1,<base64 HMAC-SHA256 of id.timestamp.body keyed with the workspace's whsec_ secret>" }),
  };
  for (const type of WEBHOOK_EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      tags: ["Outbound webhooks"],
      summary: `${type} (ext), POSTed to the workspace's webhookUrl`,
      description:
        `data: ${WEBHOOK_EVENT_DATA[type]}. ` +
        "Signed per Standard Webhooks; retried with backoff (5 s doubling, up to an hour, 12 retries) until a 2xx. At least once: de-duplicate on webhook-id.",
      request: {
        headers: z.object(signed),
        body: {
          content: {
            "application/json": {
              schema: z.object({ type: z.literal(type), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }),
            },
          },
        },
      },
      responses: { 200: { description: "Any 2xx acknowledges the event" } },
    });
  }
  app.doc31("/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Batch Calls API",
      version: "1.0.0",
      description:
        "Upload a CSV of people to call and name an agent; the service validates every row, stores the file and works through the calls. " +
        "Every error has the body {error, code, requestId, details?}. Times known to existing clients are epoch ms; fields ending in At are ISO 8601 UTC." +
        CAMPAIGN_STORY,
    },
  });
  app.get("/docs", (c) => {
    // No Content-Security-Policy reaches this page otherwise (public/_headers covers static assets only): its own, allowing its inline script by nonce.
    const nonce = randomHex(16);
    c.header("Content-Security-Policy", docsCsp(nonce));
    return c.html(docsHtml(nonce));
  });
}
