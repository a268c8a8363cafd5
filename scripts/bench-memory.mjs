// @ts-check
// npm run bench:memory — intake's CSV scan of the 20 MiB bench file under a
// capped V8 heap. Prints one JSON line; exits non-zero if the scan fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

export const HEAP_CAP_MIB = 48;

export async function measureMemory() {
  const dir = mkdtempSync(join(tmpdir(), "bench-memory-"));
  try {
    /**
     * @param {string} entry
     * @param {string} out
     */
    const bundle = (entry, out) => build({ entryPoints: [entry], outfile: join(dir, out), bundle: true, format: "esm", platform: "node", logLevel: "error" });
    await bundle("bench/write-csv.ts", "write-csv.mjs");
    await bundle("bench/memory.ts", "memory.mjs");
    const csv = join(dir, "bench.csv");
    const gen = spawnSync(process.execPath, [join(dir, "write-csv.mjs"), csv], { stdio: "inherit" });
    if (gen.status !== 0) throw new Error("could not generate the bench CSV");
    // The generator runs in its own process, so only the scan is on this heap.
    const run = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_CAP_MIB}`, join(dir, "memory.mjs"), csv], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`scan under a ${HEAP_CAP_MIB} MiB heap failed:\n${run.stderr.slice(-2000)}`);
    return { heapCapMiB: HEAP_CAP_MIB, ...JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(JSON.stringify(await measureMemory()));
  } catch (err) {
    console.error(`bench:memory: ${/** @type {Error} */ (err).message}`);
    process.exit(1);
  }
}
