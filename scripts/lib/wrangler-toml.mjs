// @ts-check
/**
 * What `npm run setup:cloudflare` needs from wrangler.toml, read line by line, and the one
 * edit it makes (a D1 database_id), done in place so every comment and layout stays.
 * Not a TOML parser: top-level tables with `key = "string"` lines, as wrangler.toml is written
 * here; [env.*] sections are not read (the script sets up the top-level Worker only).
 */

/** The id wrangler.toml carries until a real database is made. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/**
 * @typedef {{ binding: string, databaseName: string, databaseId: string | null, migrationsDir: string }} D1Entry
 * @typedef {{ name: string | null, d1: D1Entry[], buckets: string[], queues: string[] }} WranglerNames
 */

const HEADER = /^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(?:#.*)?$/;
const STRING_KEY = /^\s*([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"\s*(?:#.*)?$/;

/**
 * Each table of the file with its string keys, in order; `start` is the header's line (-1 for the top level).
 * @param {string[]} lines
 */
function tables(lines) {
  /** @type {{ name: string, start: number, keys: Map<string, { value: string, line: number }> }[]} */
  const out = [{ name: "", start: -1, keys: new Map() }];
  lines.forEach((line, i) => {
    const header = HEADER.exec(line);
    if (header?.[2]) {
      out.push({ name: header[2], start: i, keys: new Map() });
      return;
    }
    const kv = STRING_KEY.exec(line);
    const current = out[out.length - 1];
    if (kv?.[1] && current && !current.keys.has(kv[1])) current.keys.set(kv[1], { value: kv[2] ?? "", line: i });
  });
  return out;
}

/**
 * The Worker's name and the D1 databases, R2 buckets and queues its wrangler.toml binds.
 * @param {string} text
 * @returns {WranglerNames}
 */
export function readWranglerToml(text) {
  const all = tables(text.split("\n"));
  /** @param {string} table @param {string} key */
  const values = (table, key) => all.filter((t) => t.name === table).flatMap((t) => t.keys.get(key)?.value ?? []);
  const d1 = all
    .filter((t) => t.name === "d1_databases")
    .flatMap((t) => {
      const databaseName = t.keys.get("database_name")?.value;
      if (!databaseName) return [];
      return [
        {
          binding: t.keys.get("binding")?.value ?? databaseName,
          databaseName,
          databaseId: t.keys.get("database_id")?.value || null,
          migrationsDir: t.keys.get("migrations_dir")?.value ?? "migrations",
        },
      ];
    });
  const queues = [...values("queues.producers", "queue"), ...values("queues.consumers", "queue"), ...values("queues.consumers", "dead_letter_queue")];
  return {
    name: all[0]?.keys.get("name")?.value ?? null,
    d1,
    buckets: [...new Set(values("r2_buckets", "bucket_name"))],
    queues: [...new Set(queues)],
  };
}

/**
 * The file with `database_id` of the [[d1_databases]] entry named `databaseName` set to `id`:
 * that one line's value changes (or a line is added under database_name); nothing else moves.
 * @param {string} text
 * @param {string} databaseName
 * @param {string} id
 */
export function setDatabaseId(text, databaseName, id) {
  const lines = text.split("\n");
  const entry = tables(lines).find((t) => t.name === "d1_databases" && t.keys.get("database_name")?.value === databaseName);
  if (!entry) throw new Error(`wrangler.toml has no [[d1_databases]] entry with database_name = "${databaseName}".`);
  const current = entry.keys.get("database_id");
  if (current) {
    const line = lines[current.line] ?? "";
    lines[current.line] = line.replace(/(=\s*)"[^"]*"/, `$1"${id}"`);
  } else {
    const nameLine = /** @type {{ line: number }} */ (entry.keys.get("database_name")).line;
    lines.splice(nameLine + 1, 0, `database_id = "${id}"`);
  }
  return lines.join("\n");
}
