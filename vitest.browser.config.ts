// The real-browser suite (npm run test:browser): Node, not workerd. One dev server for the
// suite (globalSetup), one Chromium per file, files one after another — the machine has
// few cores and each file drives a browser and a live server.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test-browser/**/*.test.ts"],
    globalSetup: ["./test-browser/global-setup.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
