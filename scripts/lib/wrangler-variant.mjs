// @ts-check
/**
 * A variant of the project's wrangler.toml for a bench's dev server (the
 * project's file is never edited): the same Worker with one consumer's
 * `max_batch_size` changed, written to a temp folder with every relative
 * path (main, migrations_dir, the assets directory) made absolute so it
 * runs from there. Line edits, as scripts/lib/wrangler-toml.mjs does: not
 * a TOML parser, and only for the file as it is written here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, URL } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The file's text with the [[queues.consumers]] entry of `queue` given `maxBatchSize`, and paths absolute.
 * @param {string} text the project's wrangler.toml
 * @param {{ queue: string, maxBatchSize: number, root?: string, main?: string }} change
 */
export function variantToml(text, { queue, maxBatchSize, root = ROOT, main }) {
  const lines = text.split("\n");
  let table = "";
  let consumerOf = "";
  let changed = false;
  const out = lines.map((line) => {
    const header = /^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?/.exec(line);
    if (header?.[1]) {
      table = header[1];
      consumerOf = "";
      return line;
    }
    if (/^#:schema /.test(line)) return "";
    const kv = /^(\s*)([A-Za-z0-9_]+)(\s*=\s*)"([^"]*)"(.*)$/.exec(line);
    if (kv) {
      const [, indent, key, eq, value, rest] = kv;
      const absolute = (/** @type {string} */ v) => `${indent}${key}${eq}${JSON.stringify(resolve(root, v))}${rest}`;
      if (table === "" && key === "main") return main ? `${indent}${key}${eq}${JSON.stringify(main)}${rest}` : absolute(value ?? "");
      if (key === "migrations_dir" || (table === "assets" && key === "directory")) return absolute(value ?? "");
      if (table === "queues.consumers" && key === "queue") consumerOf = value ?? "";
    }
    if (table === "queues.consumers" && consumerOf === queue && /^\s*max_batch_size\s*=/.test(line)) {
      changed = true;
      return `max_batch_size = ${maxBatchSize}`;
    }
    return line;
  });
  if (!changed) throw new Error(`wrangler.toml has no max_batch_size line for the consumer of "${queue}"`);
  return out.join("\n");
}

/**
 * Writes the variant to a new temp folder; returns its path.
 * @param {{ queue: string, maxBatchSize: number, main?: string }} change
 */
export function writeVariant(change) {
  const text = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const dir = mkdtempSync(join(tmpdir(), "bench-wrangler-"));
  const path = join(dir, "wrangler.toml");
  writeFileSync(path, variantToml(text, change));
  return path;
}
