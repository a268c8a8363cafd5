#!/usr/bin/env node
/**
 * The hostile-intake section of `npm run bench` (also runnable alone:
 * `node scripts/bench-hostile.mjs`): how long the real upload path takes to
 * refuse a cheap, maximally row-dense file, next to how long it takes to
 * accept the bench's valid one.
 *
 * - hostile: a 20 MiB CSV whose header is `phone_number` and whose 10.5
 *   million rows are each `1` — the most rows a 20 MiB file can hold, every
 *   one invalid. Uploaded with the default onInvalidRows=reject: a 400.
 * - valid: the 20 MiB, 200,000-row file the intake bench uses
 *   (bench/generate.ts), uploaded to its 201 (scheduled a day ahead, so it
 *   does not dial; an untimed status read after it waits for the batch's
 *   object to write its calls, so the next upload does not share the thread).
 *
 * Both go through the Worker's fetch handler in wrangler dev's local runtime
 * (scripts/lib/dev-runtime.mjs, as `npm start`), over HTTP like a customer:
 * multipart, the scan, the R2 put and, for the 400, the rollback. One
 * warm-up upload of the valid file, then BENCH_HOSTILE_RUNS (default 3)
 * timed runs of each, alternating; medians. `ratioToValid` is hostile ÷
 * valid from the same run (the machine's speed drifts between runs).
 * BENCH_HOSTILE_TIMEOUT_MS bounds one upload (default 10 minutes).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { client, startServer } from "./lib/dev-runtime.mjs";

const MAX_FILE_BYTES = 20 * 1024 * 1024;
const HEADER = "phone_number\n";

const round = (n) => Math.round(n * 10) / 10;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
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

export async function runHostile(options = {}) {
  const runs = Math.max(1, Number(options.runs ?? process.env.BENCH_HOSTILE_RUNS) || 3);
  const timeoutMs = Number(process.env.BENCH_HOSTILE_TIMEOUT_MS) || 10 * 60 * 1000;
  const log = options.log ?? ((line) => process.stderr.write(`bench:hostile: ${line}\n`));
  const valid = await validCsv();
  const hostile = hostileCsv();
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
    const materialised = async (batchId) => {
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
    let refusal = null;
    const uploadHostile = async () => {
      const t = performance.now();
      const res = await api.call("POST", "/v1/api/batch-calls", { form: { agentId, file: hostile.text }, expect: [400], timeoutMs });
      const ms = performance.now() - t;
      if (res.body.code !== "csv_invalid") throw new Error(`hostile upload: expected csv_invalid, got ${JSON.stringify(res.body).slice(0, 500)}`);
      refusal = res.body;
      return ms;
    };

    log(`warm-up: the valid file (${valid.length.toLocaleString("en-US")} bytes)`);
    const warmupMs = await uploadValid();
    const validRuns = [];
    const hostileRuns = [];
    for (let run = 1; run <= runs; run++) {
      hostileRuns.push(round(await uploadHostile()));
      validRuns.push(round(await uploadValid()));
      log(`run ${run}/${runs}: hostile → 400 in ${hostileRuns.at(-1)} ms, valid → 201 in ${validRuns.at(-1)} ms`);
    }
    const ms = round(median(hostileRuns));
    const validMs = round(median(validRuns));
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
      invalidRows: refusal.invalidRows,
      error: refusal.error,
      runtime: "wrangler dev --local (HTTP; started with unstable_startWorker, devtools inspector off)",
    };
  } finally {
    await server.stop();
  }
}

export function formatHostile(h) {
  return (
    `Hostile intake: ${h.rows.toLocaleString("en-US")} rows of "1" (${(h.bytes / 2 ** 20).toFixed(2)} MiB), onInvalidRows=reject → 400 ` +
    `in ${h.ms.toLocaleString("en-US")} ms (runs ${h.runsMs.join(" / ")}); the valid bench file → 201 in ${h.validMs.toLocaleString("en-US")} ms ` +
    `(runs ${h.validRunsMs.join(" / ")}): ${h.ratioToValid}× (target ≤ 3)\n  ${h.error}`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const h = await runHostile();
    console.log(formatHostile(h));
    console.log(JSON.stringify(h));
  } catch (err) {
    console.error(`bench:hostile: ${err.message}`);
    process.exit(1);
  }
}
