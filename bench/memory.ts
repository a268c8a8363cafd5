/*
 * Intake's CSV scan under a capped V8 heap, in Node (local workerd has no
 * isolate memory limit and no heap gauge). scripts/bench-memory.mjs bundles
 * this file and runs it with --max-old-space-size; it prints one JSON line.
 * The file is read as a file-backed Blob, so its 20 MiB are not on the heap,
 * as a File from Request.formData is not in the Worker.
 */
import { openAsBlob } from "node:fs";
import { scanCsv } from "../src/domain/csv";

const path = process.argv[2]!;
const blob = await openAsBlob(path);
const before = process.memoryUsage().heapUsed;
let peak = before;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
const timer = setInterval(sample, 5);
let maxSlice = 0;
const started = performance.now();
const result = await scanCsv(blob.stream(), { defaultCountry: "US", stopOnInvalid: true }, async (json) => {
  sample();
  maxSlice = Math.max(maxSlice, json.length);
});
clearInterval(timer);
sample();
const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
console.log(
  JSON.stringify({
    ok: result.ok,
    rows: result.ok ? result.summary.validRows : 0,
    fileMiB: mb(blob.size),
    scanMs: Math.round(performance.now() - started),
    peakHeapMiB: mb(peak),
    largestSliceMiB: Math.round((maxSlice / 2 ** 20) * 100) / 100,
  }),
);
