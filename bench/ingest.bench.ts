import { env } from "cloudflare:workers";
import Papa from "papaparse";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { scanCsv } from "../src/domain/csv";
import { toE164 } from "../src/domain/phone";
import { ledgerQuery } from "../test/engine-helpers";
import { json, newWorkspace, upload, type TestWorkspace } from "../test/helpers";
import { generateCsv, type GeneratedCsv } from "./generate";

/*
 * Batch-intake benchmark, run inside workerd by `npm run bench`. Each `it`
 * times one phase and files its numbers under a key of `results`; afterAll
 * prints them all as one `BENCH_RESULT {json}` line for scripts/bench.mjs.
 * A new phase (e.g. dispatch) is one more `it` writing one more key.
 */

declare module "vitest" {
  interface ProvidedContext {
    benchRuns: number;
  }
}

const RUNS = inject("benchRuns");
const COUNTRY = "US";

type Section = Record<string, unknown>;
const results: Record<string, Section> = {};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

type Timing = { medianMs: number; minMs: number; runsMs: number[]; warmupMs: number };

/**
 * One warm-up run (JIT tiering and first-use setup otherwise skew the first
 * runs, and that drift differs per phase), then `RUNS` timed runs in sequence.
 * `after` runs after each, untimed.
 */
async function timeRuns(fn: (run: number) => unknown, after?: (run: number) => unknown): Promise<Timing> {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const start = performance.now();
    await fn(run);
    times.push(round(performance.now() - start));
    await after?.(run);
  }
  const [warmupMs, ...runsMs] = times as [number, ...number[]];
  return { medianMs: round(median(runsMs)), minMs: Math.min(...runsMs), runsMs, warmupMs };
}

describe("batch intake", () => {
  let csv: GeneratedCsv;
  let ws: TestWorkspace;

  beforeAll(async () => {
    const start = performance.now();
    csv = generateCsv();
    results.input = { rows: csv.rows, bytes: csv.bytes, generateMs: round(performance.now() - start), runs: RUNS };
    ws = await newWorkspace({ name: "Bench workspace" });
  });

  afterAll(() => {
    console.log(`BENCH_RESULT ${JSON.stringify(results)}`);
  });

  it("parseOnly: bare Papa.parse with header (the yardstick)", async () => {
    let parsedRows = 0;
    const timed = await timeRuns(() => {
      const parsed = Papa.parse<Record<string, string>>(csv.text, { header: true });
      parsedRows = parsed.data.length;
    });
    // Papa reports the empty line after the final newline as one more row.
    expect(parsedRows - csv.rows).toBeLessThanOrEqual(1);
    results.parseOnly = { ...timed, parsedRows };
  });

  it("phoneOnly: toE164 over every phone cell", async () => {
    let valid = 0;
    const timed = await timeRuns(() => {
      valid = 0;
      for (const phone of csv.phones) if (toE164(phone, COUNTRY) !== null) valid++;
    });
    expect(valid).toBe(csv.rows);
    results.phoneOnly = timed;
  });

  it("scanOnly: scanCsv with a no-op sink", async () => {
    const blob = new Blob([csv.text], { type: "text/csv" });
    let validRows = 0;
    const timed = await timeRuns(async () => {
      const scan = await scanCsv(blob.stream(), { defaultCountry: COUNTRY, stopOnInvalid: true }, async () => {});
      if (!scan.ok) throw new Error(scan.message);
      expect(scan.summary.invalidRows, JSON.stringify(scan.summary.errors.slice(0, 5))).toBe(0);
      validRows = scan.summary.validRows;
    });
    expect(validRows).toBe(csv.rows);
    results.scanOnly = timed;
  });

  it("storeOnly: the R2 put of the file alone", async () => {
    const blob = new Blob([csv.text], { type: "text/csv" });
    const key = (run: number) => `bench/store-only-${run}.csv`;
    const timed = await timeRuns(
      (run) => env.CSV_BUCKET.put(key(run), blob, { httpMetadata: { contentType: "text/csv" } }),
      (run) => env.CSV_BUCKET.delete(key(run)),
    );
    results.storeOnly = timed;
  });

  it("formOnly: encoding the multipart body and Request.formData parsing it", async () => {
    // Client-side encoding runs on the same thread here; against a deployed
    // Worker it happens on the client's machine.
    const blob = new Blob([csv.text], { type: "text/csv" });
    const timed = await timeRuns(async () => {
      const form = new FormData();
      form.append("file", blob, "people.csv");
      form.append("agentId", ws.agentId);
      const parsed = await new Request("http://bench.test/", { method: "POST", body: form }).formData();
      expect((parsed.get("file") as File).size).toBe(csv.bytes);
    });
    results.formOnly = timed;
  });

  it("ingest: POST /v1/api/batch-calls to its 201", async () => {
    const blob = new Blob([csv.text], { type: "text/csv" });
    // Same intake path as "start now", but the batches stay armed instead of
    // dialling in the background while the later runs are timed.
    const scheduledAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
    let batchId = "";
    let accepted = 0;
    const materialiseMs: number[] = [];
    const timed = await timeRuns(
      async () => {
        const res = await upload(ws, blob, { scheduledAt });
        const body = await json(res);
        if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body).slice(0, 1000)}`);
        expect(body).toMatchObject({ totalCalls: csv.rows, duplicatesRemoved: 0, invalidRows: 0, status: "queued" });
        batchId = body.batchId;
        accepted = performance.now();
      },
      // After the 201 the batch's object writes the calls from the stored file
      // (untimed here, so the next run does not share the thread with it).
      async () => {
        const stub = env.BATCH_SCHEDULER.getByName(batchId);
        while (!(await stub.state())?.materialised) await new Promise((r) => setTimeout(r, 20));
        materialiseMs.push(round(performance.now() - accepted));
      },
    );
    const [, ...mRuns] = materialiseMs;
    results.materialise = {
      medianMs: round(median(mRuns)),
      minMs: Math.min(...mRuns),
      runsMs: mRuns,
      warmupMs: materialiseMs[0]!,
      note: "after the 201, in the batch's object",
    };
    results.ingest = {
      rows: csv.rows,
      bytes: csv.bytes,
      medianMs: timed.medianMs,
      rowsPerSec: Math.round(csv.rows / (timed.medianMs / 1000)),
      minMs: timed.minMs,
      runsMs: timed.runsMs,
      warmupMs: timed.warmupMs,
    };
  });
  it("dispatch: two immediate batches under a 20 calls/s workspace limit", async () => {
    // Simulated provider with SIM_CALL_SECONDS = 0 (the test bindings), so the
    // workspace's rate, not call length, is what limits the pace.
    const limits = { callsPerSecond: 20, maxConcurrentCalls: 50 };
    const dws = await newWorkspace({ name: "Dispatch bench", rateLimits: limits });
    const perBatch = 150;
    const csvFor = (prefix: number) =>
      ["phone_number", ...Array.from({ length: perBatch }, (_, i) => `+1212${prefix}${String(i * 10 + (i % 5)).padStart(4, "0")}`)].join("\n");
    const limiter = env.WORKSPACE_LIMITER.getByName(dws.workspaceId);
    let maxLeases = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxLeases = Math.max(maxLeases, (await limiter.snapshot()).leases.length);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = Date.now();
    const responses = await Promise.all([upload(dws, csvFor(555), { scheduledAt: "" }), upload(dws, csvFor(556), { scheduledAt: "" })]);
    const accepted = Date.now();
    const ids: string[] = [];
    for (const res of responses) {
      expect(res.status).toBe(201);
      ids.push((await json(res)).batchId);
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      const states = await Promise.all(ids.map((id) => env.BATCH_SCHEDULER.getByName(id).progress(0)));
      if (states.every((p) => p?.status === "completed")) break;
      if (Date.now() > deadline) throw new Error("dispatch bench: batches did not complete in 120 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    watching = false;
    await watcher;
    const calls: { batch_id: string; start_time: number; end_time: number }[] = [];
    for (const id of ids) {
      for (const c of await ledgerQuery<{ start_time: number; end_time: number }>(id, "SELECT start_time, end_time FROM calls"))
        calls.push({ batch_id: id, ...c });
    }
    calls.sort((x, y) => x.start_time - y.start_time);
    const starts = calls.map((c) => c.start_time);
    let worstWindow = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[j]! < starts[i]! - 999) j++;
      worstWindow = Math.max(worstWindow, i - j + 1);
    }
    // concurrency from the calls' own [start, end] intervals
    const events = calls
      .flatMap(
        (c) =>
          [
            [c.start_time, 1],
            [c.end_time, -1],
          ] as [number, number][],
      )
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let live = 0;
    let maxConcurrent = 0;
    for (const [, d] of events) {
      live += d;
      maxConcurrent = Math.max(maxConcurrent, live);
    }
    const spanMs = starts.at(-1)! - starts[0]!;
    const perBatchRate = ids.map((id) => {
      const s = calls.filter((c) => c.batch_id === id).map((c) => c.start_time);
      return Math.round(((s.length - 1) / ((s.at(-1)! - s[0]!) / 1000)) * 10) / 10;
    });
    results.dispatch = {
      calls: calls.length,
      batches: 2,
      callsPerSecondLimit: limits.callsPerSecond,
      maxConcurrentLimit: limits.maxConcurrentCalls,
      achievedStartsPerSec: Math.round(((starts.length - 1) / (spanMs / 1000)) * 100) / 100,
      worstStartsInOneSecond: worstWindow,
      maxConcurrentObserved: maxConcurrent,
      maxLeasesObserved: maxLeases,
      limitViolations: Math.max(0, worstWindow - limits.callsPerSecond) + Math.max(0, maxLeases - limits.maxConcurrentCalls),
      firstDialAfter201Ms: starts[0]! - accepted,
      uploadMs: accepted - t0,
      perBatchStartsPerSec: perBatchRate,
      totalMs: Date.now() - accepted,
    };
    expect(calls).toHaveLength(2 * perBatch);
  });
});
