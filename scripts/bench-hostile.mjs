#!/usr/bin/env node
// @ts-check
/**
 * The hostile-intake section of `npm run bench` (also runnable alone:
 * `node scripts/bench-hostile.mjs`): how long the real upload path takes to
 * answer cheap, row-dense files built to be costly, next to how long it
 * takes to accept the bench's valid one (issue 14: any 20 MiB file, valid or
 * not, within 3× the valid one).
 *
 * - hostile: a 20 MiB CSV whose header is `phone_number` and whose 10.5
 *   million rows are each `1` — the most rows a 20 MiB file can hold, every
 *   one invalid. Uploaded with the default onInvalidRows=reject: a 400.
 * - dry runs (dryRun=true, onInvalidRows=skip: every row is judged and
 *   counted), each file 20 MiB of distinct values (HOSTILE_FILES):
 *   `nanp` 10-digit US numbers whose area code starts with 1, `zones` a
 *   valid number and a zone-like name under a real area, `backtrack`
 *   250-character values that make libphonenumber's own regular expressions
 *   backtrack, `emails` 254-character addresses that would make an email
 *   pattern backtrack, `mixed` a round of other junk (letters, extensions, prefixes,
 *   too many digits, offsets, links). Each is a 400 (nothing left to call)
 *   or a 200, after the whole file is scanned.
 * - valid: the 20 MiB, 200,000-row file the intake bench uses
 *   (bench/generate.ts), uploaded to its 201 (scheduled a day ahead, so it
 *   does not dial; an untimed status read after it waits for the batch's
 *   object to write its calls, so the next upload does not share the thread).
 *
 * All go through the Worker's fetch handler in wrangler dev's local runtime
 * (scripts/lib/dev-runtime.mjs, as `npm start`), over HTTP like a customer:
 * multipart, the scan, the R2 put and, for the 400, the rollback. One
 * warm-up upload of the valid file, then BENCH_HOSTILE_RUNS (default 3)
 * timed runs of each, alternating; medians. `ratioToValid` is hostile ÷
 * valid from the same run (the machine's speed drifts between runs).
 * BENCH_HOSTILE_TIMEOUT_MS bounds one upload (default 10 minutes);
 * BENCH_HOSTILE_FILES (names, comma-separated) picks the dry-run files.
 *
 * `node scripts/bench-hostile.mjs --scan` times the scan alone in Node
 * instead (scanCsv over each file as a dry run does it, no sink), without
 * wrangler: quicker, for comparing versions of src/domain.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { client, startServer } from "./lib/dev-runtime.mjs";

const MAX_FILE_BYTES = 20 * 1024 * 1024;
const HEADER = "phone_number\n";

/** @typedef {import("./lib/dev-runtime.mjs").Log} Log */
/**
 * A 20 MiB file for the dry-run part.
 * @typedef {object} HostileFile
 * @property {string} name
 * @property {string} what what its rows are
 * @property {() => { text: string, rows: number }} build
 * @property {(rows: number) => number | undefined} invalid the invalidRows the scan must report, where known
 */
/** @typedef {{ status: number, invalidRows: number, totalCalls: number | null }} DryAnswer a dry run's answer */
/** @typedef {{ runsMs: number[], rows: number, invalidRows: number, ms: number, ratioToValid: number, bytes: number }} ScanFigures */

/** @param {number} n */
const round = (n) => Math.round(n * 10) / 10;

/** @param {number[]} values */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const at = (/** @type {number} */ i) => s[i] ?? Number.NaN;
  return s.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/** The intake bench's generated file (bench/generate.ts), built and run in its own process. */
async function validCsv() {
  const dir = mkdtempSync(join(tmpdir(), "bench-hostile-"));
  try {
    const script = join(dir, "write-csv.mjs");
    await build({ entryPoints: ["bench/write-csv.ts"], outfile: script, bundle: true, format: "esm", platform: "node", logLevel: "error" });
    const path = join(dir, "bench.csv");
    const gen = spawnSync(process.execPath, [script, path], { stdio: "inherit" });
    if (gen.status !== 0) throw new Error("could not generate the bench CSV");
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `phone_number` then as many `1` rows as fit in the upload limit. */
export function hostileCsv() {
  const rows = Math.floor((MAX_FILE_BYTES - HEADER.length) / 2);
  return { text: HEADER + "1\n".repeat(rows), rows };
}

/**
 * `header` then rows from `row(i)` (ASCII) while they fit in the upload limit.
 * @param {string} header
 * @param {(i: number) => string} row
 */
function filled(header, row) {
  const first = `${header}\n`;
  const parts = [first];
  let bytes = first.length;
  let rows = 0;
  for (;;) {
    const line = `${row(rows)}\n`;
    if (bytes + line.length > MAX_FILE_BYTES) break;
    parts.push(line);
    bytes += line.length;
    rows++;
  }
  return { text: parts.join(""), rows };
}

/**
 * Distinct for every i under 10^9 (the multiplier is coprime to 10^9).
 * @param {number} i
 */
const nine = (i) => String((i * 7_654_321 + 1_234_567) % 1_000_000_000).padStart(9, "0");

/** The dry-run files BENCH_HOSTILE_FILES names, or all. */
export function hostileFiles() {
  const names = process.env.BENCH_HOSTILE_FILES?.split(",").map((n) => n.trim());
  return names ? HOSTILE_FILES.filter((f) => names.includes(f.name)) : HOSTILE_FILES;
}

/**
 * The dry-run files: 20 MiB each, distinct values, so no memo helps.
 * `invalidRows` is the exact count the scan must report, where known.
 * @type {HostileFile[]}
 */
const HOSTILE_FILES = [
  {
    name: "nanp",
    what: "10-digit US numbers whose area code starts with 1 (`1xxxxxxxxx`)",
    build: () => filled("phone_number", (i) => `1${nine(i)}`),
    invalid: (rows) => rows,
  },
  {
    name: "zones",
    what: "a valid number and a zone-like name under a real area (`America/Foo123`)",
    build: () => filled("phone_number,timezone", (i) => `2125550123,America/Foo${i}`),
    invalid: (rows) => rows,
  },
  {
    name: "backtrack",
    what: "250-character values that make libphonenumber's regular expressions backtrack (`111…1z1`)",
    build: () => filled("phone_number", (i) => `${"1".repeat(236)}${nine(i)}z1`.slice(-250)),
    invalid: (rows) => rows,
  },
  {
    name: "emails",
    what: "a valid number and a 254-character address that makes an email pattern backtrack (`a@b.b.…b.1<`)",
    build: () => filled("phone_number,email", (i) => `2125550123,a@${"b.".repeat(120)}${nine(i)}<`.slice(0, 11 + 254)),
    invalid: (rows) => rows,
  },
  {
    name: "mixed",
    what: "a round of other junk: `+1 1…`, `0…`, letters, extensions, 22 digits, `tel:`, zones `Zone/…`, offsets, links",
    build: () =>
      filled("phone_number,timezone", (i) => {
        const n = nine(i);
        const shapes = [
          `+1 1${n},`,
          `0${n},`,
          `21a${n},`,
          `212555${n.slice(0, 4)} x${n.slice(4)},`,
          `${n}${n}1234,`,
          `tel:+1 212 555 ${n.slice(0, 4)},Zone/${i}`,
          `+1 212 555 ${n.slice(5)},+05:30`,
          `(212) 555-${n.slice(0, 4)},US/Eastern`,
        ];
        return shapes[i % shapes.length] ?? "";
      }),
    invalid: () => undefined,
  },
];

/**
 * The hostile file and the dry-run files against the valid one, through the upload path of wrangler dev.
 * @param {{ runs?: number, log?: Log }} [options]
 */
export async function runHostile(options = {}) {
  const runs = Math.max(1, Number(options.runs ?? process.env.BENCH_HOSTILE_RUNS) || 3);
  const timeoutMs = Number(process.env.BENCH_HOSTILE_TIMEOUT_MS) || 10 * 60 * 1000;
  const log = options.log ?? ((/** @type {string} */ line) => process.stderr.write(`bench:hostile: ${line}\n`));
  const valid = await validCsv();
  const hostile = hostileCsv();
  const dry = hostileFiles().map((f) => ({ ...f, ...f.build() }));
  const server = await startServer(log, "api");
  try {
    const api = client(server.baseUrl, server.isUp, server.logPath, log);
    const ws = await api.call("POST", "/v1/admin/workspaces", { admin: server.adminToken, json: { name: "hostile bench" }, expect: [201] });
    api.useKey(ws.body.apiKey, ws.body.workspaceId);
    const agent = await api.call("POST", "/v1/api/agents", { json: { name: "Sim", provider: "simulated" }, expect: [201] });
    const agentId = agent.body.agentId;
    const scheduledAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

    // Untimed: a status read answers once the batch's object holds its calls. Under wrangler dev
    // a read sent while it is still writing them sometimes never answers (the next one does at
    // once), so each read gets a short timeout and is sent again.
    const materialised = async (/** @type {string} */ batchId) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await api.call("GET", `/v1/api/batch-calls/${batchId}/status`, { timeoutMs: 10_000 });
        } catch (err) {
          if (attempt >= 30) throw err;
        }
      }
    };
    const uploadValid = async () => {
      const t = performance.now();
      const res = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, scheduledAt, file: valid }, expect: [201], timeoutMs });
      const ms = performance.now() - t;
      await materialised(res.body.batchId);
      return ms;
    };
    // The hostile upload's 400 (the assertion keeps TS from reading it as always null: it is set in a closure).
    let refusal = /** @type {{ invalidRows: number, error: string } | null} */ (null);
    const uploadHostile = async () => {
      const t = performance.now();
      const res = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, file: hostile.text }, expect: [400], timeoutMs });
      const ms = performance.now() - t;
      if (res.body.code !== "csv_invalid") throw new Error(`hostile upload: expected csv_invalid, got ${JSON.stringify(res.body).slice(0, 500)}`);
      refusal = res.body;
      return ms;
    };

    // A dry run judges and counts every row: a 400 when nothing is left to call, else a 200.
    /** @type {Map<string, DryAnswer>} */
    const answers = new Map();
    /** @param {HostileFile & { text: string, rows: number }} f */
    const uploadDry = async (f) => {
      const t = performance.now();
      const res = await api.call("POST", "/v1/api/batch-calls", {
        form: { agentId, file: f.text, dryRun: "true", onInvalidRows: "skip" },
        expect: [200, 400],
        timeoutMs,
      });
      const ms = performance.now() - t;
      const invalidRows = res.body.invalidRows;
      const want = f.invalid(f.rows);
      if (typeof invalidRows !== "number" || (want !== undefined && invalidRows !== want)) {
        throw new Error(`${f.name}: expected invalidRows ${want ?? "(a number)"}, got ${JSON.stringify(res.body).slice(0, 500)}`);
      }
      answers.set(f.name, { status: res.status, invalidRows, totalCalls: res.body.totalCalls ?? null });
      return ms;
    };

    log(`warm-up: the valid file (${valid.length.toLocaleString("en-US")} bytes)`);
    const warmupMs = await uploadValid();
    /** @type {number[]} */
    const validRuns = [];
    /** @type {number[]} */
    const hostileRuns = [];
    /** @type {Map<string, number[]>} */
    const dryRuns = new Map(dry.map((f) => [f.name, []]));
    /** @param {string} name */
    const dryRunsOf = (name) => dryRuns.get(name) ?? [];
    for (let run = 1; run <= runs; run++) {
      hostileRuns.push(round(await uploadHostile()));
      for (const f of dry) dryRunsOf(f.name).push(round(await uploadDry(f)));
      validRuns.push(round(await uploadValid()));
      const dryText = dry.map((f) => `${f.name} ${dryRunsOf(f.name).at(-1)} ms`).join(", ");
      log(`run ${run}/${runs}: hostile → 400 in ${hostileRuns.at(-1)} ms; dry runs: ${dryText}; valid → 201 in ${validRuns.at(-1)} ms`);
    }
    const ms = round(median(hostileRuns));
    const validMs = round(median(validRuns));
    const dryRun = Object.fromEntries(
      dry.map((f) => {
        const fileMs = round(median(dryRunsOf(f.name)));
        const answer = /** @type {DryAnswer} */ (answers.get(f.name)); // every file had its dry runs above
        return [
          f.name,
          {
            what: f.what,
            ms: fileMs,
            ratioToValid: Math.round((fileMs / validMs) * 100) / 100,
            runsMs: dryRunsOf(f.name),
            rows: f.rows,
            bytes: f.text.length,
            ...answer,
          },
        ];
      }),
    );
    return {
      ms,
      ratioToValid: Math.round((ms / validMs) * 100) / 100,
      validMs,
      runsMs: hostileRuns,
      validRunsMs: validRuns,
      validWarmupMs: round(warmupMs),
      rows: hostile.rows,
      bytes: hostile.text.length,
      validBytes: valid.length,
      invalidRows: refusal?.invalidRows,
      error: refusal?.error,
      dryRun,
      runtime: "wrangler dev --local (HTTP; started with unstable_startWorker, devtools inspector off)",
    };
  } finally {
    await server.stop();
  }
}

/** @param {Awaited<ReturnType<typeof runHostile>>} h */
export function formatHostile(h) {
  const dry = Object.entries(h.dryRun ?? {}).map(
    ([name, d]) =>
      `\n  dry run, ${name}: ${d.rows.toLocaleString("en-US")} rows of ${d.what} → ${d.status} (invalidRows ${d.invalidRows.toLocaleString("en-US")}) ` +
      `in ${d.ms.toLocaleString("en-US")} ms (runs ${d.runsMs.join(" / ")}): ${d.ratioToValid}×`,
  );
  return (
    `Hostile intake: ${h.rows.toLocaleString("en-US")} rows of "1" (${(h.bytes / 2 ** 20).toFixed(2)} MiB), onInvalidRows=reject → 400 ` +
    `in ${h.ms.toLocaleString("en-US")} ms (runs ${h.runsMs.join(" / ")}); the valid bench file → 201 in ${h.validMs.toLocaleString("en-US")} ms ` +
    `(runs ${h.validRunsMs.join(" / ")}): ${h.ratioToValid}× (target ≤ 3)\n  ${h.error}${dry.join("")}`
  );
}

/**
 * The scan alone, in Node: scanCsv over each file as a dry run runs it
 * (every row judged, no sink), the files read from disk as file-backed
 * Blobs. One warm-up scan of the valid file, then BENCH_HOSTILE_RUNS
 * (default 3) rounds of every file; medians and ratios to the valid file.
 */
/** @param {{ runs?: number }} [options] */
export async function runHostileScan(options = {}) {
  const runs = Math.max(1, Number(options.runs ?? process.env.BENCH_HOSTILE_RUNS) || 3);
  const dir = mkdtempSync(join(tmpdir(), "bench-hostile-scan-"));
  try {
    const files = [
      { name: "valid", text: (await validCsv()).toString("utf8") },
      { name: "ones", ...hostileCsv() },
      ...hostileFiles().map((f) => ({ name: f.name, ...f.build() })),
    ];
    for (const f of files) writeFileSync(join(dir, `${f.name}.csv`), f.text);
    const script = join(dir, "scan.mjs");
    await build({
      stdin: {
        contents: `
          import { openAsBlob } from "node:fs";
          import { scanCsv } from "./src/domain/csv";
          const [dir, runs, ...names] = process.argv.slice(2);
          const scan = async (name) => {
            const blob = await openAsBlob(\`\${dir}/\${name}.csv\`);
            const t = performance.now();
            const r = await scanCsv(blob.stream(), { defaultCountry: "US", stopOnInvalid: false, withValues: false }, null);
            if (!r.ok) throw new Error(\`\${name}: \${r.message}\`);
            return { ms: performance.now() - t, rows: r.summary.dataRows, invalidRows: r.summary.invalidRows };
          };
          await scan("valid");
          const out = Object.fromEntries(names.map((n) => [n, { runsMs: [] }]));
          for (let run = 0; run < Number(runs); run++) {
            for (const n of names) {
              const r = await scan(n);
              out[n].runsMs.push(Math.round(r.ms * 10) / 10);
              out[n].rows = r.rows;
              out[n].invalidRows = r.invalidRows;
            }
          }
          console.log(JSON.stringify(out));
        `,
        resolveDir: fileURLToPath(new URL("..", import.meta.url)),
        loader: "ts",
      },
      outfile: script,
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "error",
    });
    const child = spawnSync(process.execPath, [script, dir, String(runs), ...files.map((f) => f.name)], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (child.status !== 0) throw new Error(`scan failed:\n${child.stderr.slice(-2000)}`);
    /** @type {Record<string, ScanFigures>} */
    const out = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
    const validMs = median(out.valid?.runsMs ?? []);
    for (const f of files) {
      const o = /** @type {ScanFigures} */ (out[f.name]);
      o.ms = round(median(o.runsMs));
      o.ratioToValid = Math.round((o.ms / validMs) * 100) / 100;
      o.bytes = f.text.length;
    }
    return { ...out, runtime: `node ${process.version}, scanCsv only (a dry run's scan: no sink)` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {Record<string, unknown> & { runtime: string }} s what runHostileScan returns: the figures per file, and the runtime */
export function formatHostileScan(s) {
  const rows = Object.entries(s)
    .filter(([name]) => name !== "runtime")
    .map(([name, figures]) => {
      const o = /** @type {ScanFigures} */ (figures);
      return (
        `  ${name.padEnd(10)} ${o.rows.toLocaleString("en-US").padStart(11)} rows, invalid ${o.invalidRows.toLocaleString("en-US").padStart(11)}: ` +
        `${o.ms.toLocaleString("en-US").padStart(9)} ms (runs ${o.runsMs.join(" / ")}) ${o.ratioToValid}×`
      );
    });
  return `Scan alone (${s.runtime}), median ms and ratio to the valid file:\n${rows.join("\n")}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    if (process.argv.includes("--scan")) {
      const s = await runHostileScan();
      console.log(formatHostileScan(s));
      console.log(JSON.stringify(s));
      process.exit(0);
    }
    const h = await runHostile();
    console.log(formatHostile(h));
    console.log(JSON.stringify(h));
  } catch (err) {
    console.error(`bench:hostile: ${/** @type {Error} */ (err).message}`);
    process.exit(1);
  }
}
