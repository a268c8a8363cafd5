import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The house's layers, top to bottom: a module may import its own layer or
 * one below it, never one above. The HTTP edge is the routes with their
 * middleware and the app factory they are built on; errors.ts and
 * engine-config.ts are foundations every layer may use.
 */
const LAYERS = ["index", "app", "consumers", "http", "durable", "queue", "telephony", "services", "views", "db", "schemas", "domain", "lib"] as const;

const SRC = resolve(__dirname, "../src");

function layerOf(file: string): string {
  const path = relative(SRC, file);
  const top = path.split("/")[0]!.replace(/\.ts$/, "");
  if (top === "routes" || top === "middleware" || top === "app-factory") return "http";
  if (top === "errors" || top === "engine-config") return "lib";
  return top;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const files = sourceFiles(SRC);

/** Relative imports of a file (static, type-only and dynamic), resolved to the file they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specifiers.map((s) => {
    const target = resolve(dirname(file), s);
    return files.find((f) => f === `${target}.ts` || f === join(target, "index.ts")) ?? `${target}.ts`;
  });
}

describe("the source tree", () => {
  it("knows the layer of every folder under src/", () => {
    const unknown = [...new Set(files.map(layerOf))].filter((l) => !(LAYERS as readonly string[]).includes(l));
    expect(unknown).toEqual([]);
  });

  it("has no import from a lower layer to a higher one", () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => LAYERS.indexOf(layerOf(target) as never) < LAYERS.indexOf(layerOf(file) as never))
        .map((target) => `${relative(SRC, file)} (${layerOf(file)}) imports ${relative(SRC, target)} (${layerOf(target)})`),
    );
    expect(upward).toEqual([]);
  });

  it("keeps every source file to 300 lines, and the batch object's class (its RPC surface, each method a delegation) to 275", () => {
    const limit = (f: string) => (relative(SRC, f) === "durable/batch/scheduler.ts" ? 275 : 300);
    const long = files
      .map((f) => ({ file: relative(SRC, f), lines: readFileSync(f, "utf8").split("\n").length - 1, limit: limit(f) }))
      .filter((f) => f.lines > f.limit)
      .map((f) => `${f.file}: ${f.lines} lines (limit ${f.limit})`);
    expect(long).toEqual([]);
  });
});
