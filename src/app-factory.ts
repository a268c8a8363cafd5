import { OpenAPIHono } from "@hono/zod-openapi";
import { ApiError } from "./errors";
import { issuesText } from "./lib/issues";

/** What every handler and middleware sees: the Worker's bindings and the request's id and workspace. */
export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; workspaceId: string };
};

/** A Hono app whose route-schema validation failures become the contract's 400 body. Routes build on it; app.ts mounts them. */
export function newApp() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError("validation_failed", `The request is invalid: ${issuesText(result.error.issues)}.`, result.error.issues);
      }
    },
  });
}
