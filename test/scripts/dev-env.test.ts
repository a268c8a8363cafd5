import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, URL } from "node:url";
import { describe, expect, it } from "vitest";
import { DEV_PASS_THROUGH, debugLogPath, devWorkerVars } from "../../scripts/lib/dev-env.mjs";

/** `npm start`'s environment (scripts/dev.mjs): what reaches the Worker, and where wrangler's debug log goes. */

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

/** The names in the README's table of vars and secrets (the one whose header is `| name | kind | meaning |`). */
function documentedVars(): string[] {
  const table = readme.slice(readme.indexOf("| name | kind | meaning |"));
  const rows = table
    .slice(0, table.search(/\n\s*\n/))
    .split("\n")
    .slice(2);
  return rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string));
}

describe("devWorkerVars", () => {
  it("passes on every var of the README's table but ENVIRONMENT and SECRETS_ENCRYPTION_KEY, as the README says", () => {
    const documented = documentedVars();
    expect(documented).toContain("METRICS");
    expect([...DEV_PASS_THROUGH].sort()).toEqual(documented.filter((n) => n !== "ENVIRONMENT" && n !== "SECRETS_ENCRYPTION_KEY").sort());
  });

  it("gives METRICS and the others set in the environment, and nothing unset or unlisted", () => {
    const vars = devWorkerVars(
      { METRICS: "on", SIM_RESULTS: "off", DISPATCH_STALE_SECONDS: "5", CALL_LEASE_SECONDS: undefined, HOME: "/root", SECRETS_ENCRYPTION_KEY: "k" },
      { port: 8787, fileBaseUrl: "http://localhost:8787" },
    );
    expect(vars).toEqual({ ENVIRONMENT: "development", METRICS: "on", SIM_RESULTS: "off", DISPATCH_STALE_SECONDS: "5" });
  });

  it("keeps ENVIRONMENT development, and PUBLIC_BASE_URL follows PORT unless a real URL was chosen", () => {
    expect(devWorkerVars({ ENVIRONMENT: "production" }, { port: 8787, fileBaseUrl: undefined })).toEqual({ ENVIRONMENT: "development" });
    expect(devWorkerVars({}, { port: 9000, fileBaseUrl: "http://localhost:8787" }).PUBLIC_BASE_URL).toBe("http://localhost:9000");
    expect(devWorkerVars({}, { port: 9000, fileBaseUrl: undefined }).PUBLIC_BASE_URL).toBe("http://localhost:9000");
    expect(devWorkerVars({}, { port: 9000, fileBaseUrl: "https://tunnel.example.com" }).PUBLIC_BASE_URL).toBeUndefined();
    expect(devWorkerVars({ PUBLIC_BASE_URL: "https://x.example" }, { port: 9000, fileBaseUrl: undefined }).PUBLIC_BASE_URL).toBe("https://x.example");
  });
});

describe("debugLogPath", () => {
  it("sends wrangler's debug log to /dev/null unless WRANGLER_LOG_PATH names a place", () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-env-"));
    try {
      const path = debugLogPath(join(dir, ".wrangler"), {});
      expect(path).toBe(join(dir, ".wrangler", "wrangler-debug.log"));
      expect(lstatSync(path).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path)).toBe("/dev/null");
      writeFileSync(path, "a debug line\n", { flag: "a" });
      expect(readFileSync(path, "utf8")).toBe("");
      // A second start finds the link in place.
      expect(debugLogPath(join(dir, ".wrangler"), {})).toBe(path);
      expect(debugLogPath(join(dir, "elsewhere"), { WRANGLER_LOG_PATH: "/tmp/mine.log" })).toBe("/tmp/mine.log");
      expect(existsSync(join(dir, "elsewhere"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
