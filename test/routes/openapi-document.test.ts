import { describe, expect, it } from "vitest";
import { call, json } from "../helpers";

describe("the OpenAPI document", () => {
  it("is the committed docs/openapi.json (regenerate with `npx vitest run test/routes/openapi-document.test.ts -u` after an intended API change)", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot("../../docs/openapi.json");
  });
});
