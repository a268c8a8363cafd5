import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { describe, expect, it } from "vitest";
import { variantToml } from "../../scripts/lib/wrangler-variant.mjs";

const project = readFileSync(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), "utf8");

describe("variantToml (the consumer bench's wrangler.toml)", () => {
  it("changes only the named consumer's max_batch_size and makes the relative paths absolute", () => {
    const text = variantToml(project, { queue: "call-jobs", maxBatchSize: 100, root: "/repo/" });
    const before = project.split("\n");
    const changed = text.split("\n").flatMap((line, i) => (line === before[i] ? [] : [line]));
    expect(changed).toEqual(["", 'main = "/repo/src/index.ts"', 'migrations_dir = "/repo/migrations"', "max_batch_size = 100", 'directory = "/repo/public"']);
  });

  it("refuses a queue the file has no consumer for", () => {
    expect(() => variantToml(project, { queue: "no-such-queue", maxBatchSize: 50 })).toThrow(/no max_batch_size line/);
  });
});
