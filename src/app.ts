import { newApp } from "./app-factory";
import { HTTPException } from "hono/http-exception";
import { ApiError, errorBody } from "./errors";
import { log } from "./lib/log";
import { adminAuth, apiKeyAuth } from "./middleware/auth";
import { apiCors } from "./middleware/cors";
import { requestContext } from "./middleware/request-id";
import { adminRoutes } from "./routes/admin";
import { adminEngineRoutes } from "./routes/admin-engine";
import { agentCallRoutes } from "./routes/agent-calls";
import { agentRoutes } from "./routes/agents";
import { batchCallPageRoutes } from "./routes/batch-call-pages";
import { batchCallRoutes } from "./routes/batch-calls";
import { batchEditRoutes } from "./routes/batch-edit";
import { batchRowRoutes } from "./routes/batch-rows";
import { callResultRoutes } from "./routes/call-results";
import { dncRoutes } from "./routes/dnc";
import { testCallRoutes } from "./routes/test-calls";
import { docsRoutes } from "./routes/docs";
import { webhookRoutes } from "./routes/webhooks";
import { workspaceRoutes } from "./routes/workspace";

export function createApp() {
  const app = newApp();

  app.use("*", requestContext);

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    if (err instanceof ApiError) return c.json(errorBody(err, requestId), err.status);
    if (err instanceof URIError) {
      // decodeURIComponent on a path or query value with a broken %-escape: the client's URL, not our fault.
      const bad = new ApiError(
        "bad_request",
        "The URL has a malformed percent-escape; encode path and query values with encodeURIComponent (a literal % is %25).",
      );
      return c.json(errorBody(bad, requestId), 400);
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own 4xx (e.g. a JSON body that does not parse)
      const code =
        err.status === 415 ? "unsupported_media_type" : err.status === 413 ? "payload_too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      // Only JSON bodies are validated by Hono (the upload reads its own multipart), so a 415 here always means "send JSON".
      const message =
        err.status === 415 ? "This route takes a JSON body: send it with the header Content-Type: application/json." : `${err.message || "Bad request"}.`;
      // Through errorBody like every other error, so its size limits hold here too.
      return c.json(errorBody(new ApiError(code, message), requestId), err.status);
    }
    log("error", "unhandled_error", { requestId, workspaceId: c.get("workspaceId"), error: String(err), stack: err.stack });
    return c.json(errorBody(new ApiError("internal_error", "Something went wrong on our side; try again."), requestId), 500);
  });

  app.notFound((c) => c.json(errorBody(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`), c.get("requestId")), 404));

  // Before auth, so a preflight (which carries no API key) is never a 401; never on /v1/admin.
  for (const path of ["/healthz", "/v1/openapi.json", "/v1/api/*"]) app.use(path, apiCors);

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.use("/v1/admin/*", adminAuth);
  app.use("/v1/api/*", apiKeyAuth);
  app.route("/v1/admin", adminRoutes());
  app.route("/v1/admin", adminEngineRoutes());
  app.route("/v1/api", agentRoutes());
  app.route("/v1/api", batchCallRoutes());
  app.route("/v1/api", batchCallPageRoutes());
  app.route("/v1/api", batchEditRoutes());
  app.route("/v1/api", batchRowRoutes());
  app.route("/v1/api", callResultRoutes());
  app.route("/v1/api", dncRoutes());
  app.route("/v1/api", testCallRoutes());
  app.route("/v1/api", workspaceRoutes());
  app.route("/v1/webhooks", webhookRoutes());
  // Signed by the agent itself (Standard Webhooks), not by an API key.
  app.route("/v1/agent", agentCallRoutes());
  docsRoutes(app);
  return app;
}
