import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The test config's workerd project (bindings, migrations) with only the
 * bench files included. `npm run bench` runs this as an ordinary test run,
 * not vitest's bench mode, so the timings come from inside workerd.
 */
export default defineConfig(async (configEnv) => {
  const config: ViteUserConfig = typeof base === "function" ? await base(configEnv) : await base;
  const workerd = (config.test?.projects as TestProjectInlineConfiguration[] | undefined)?.find((p) => p.test?.name === "workerd");
  if (!workerd) throw new Error("vitest.config.ts has no project named workerd to run the bench in.");
  return {
    plugins: workerd.plugins,
    test: {
      ...workerd.test,
      name: "bench",
      // Replaced, not merged: mergeConfig would append to test/**/*.test.ts.
      include: ["bench/**/*.bench.ts"],
      exclude: [],
      testTimeout: 600_000,
      hookTimeout: 600_000,
      provide: { benchRuns: Math.max(1, Number(process.env.BENCH_RUNS) || 5) },
    },
  };
});
