// Starts the service the way `npm start` does (node scripts/dev.mjs: migrations, the seeded
// dev workspace / key / agent, then wrangler dev) on a free port, once for the whole browser
// suite, and stops it afterwards by killing its process group.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { OUT_DIR, ROOT } from "./paths.js";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const LOG = join(OUT_DIR, "dev-server.log");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once("error", reject)
      .listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
      });
  });
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to the group (dev.mjs shuts wrangler and workerd down), SIGKILL whatever is left after 8 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid;
  if (!pgid || !groupAlive(pgid)) return;
  process.kill(-pgid, "SIGTERM");
  for (let i = 0; i < 80 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) process.kill(-pgid, "SIGKILL");
}

async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const log = readFileSync(LOG, "utf8").split("\n").slice(-30).join("\n");
  throw new Error(`the dev server did not answer ${baseUrl}/healthz (exit code ${child.exitCode}); last lines of ${LOG}:\n${log}`);
}

/**
 * A checkout of the project whose only own files are scripts/dev.mjs (copied: it finds the
 * project from its own path) and an empty .wrangler/; everything else is a link to the real
 * one. So the suite's server starts on fresh local state — not the developer's .wrangler/state,
 * which a running `npm start` holds open (two workerd processes writing one local D1 answer
 * "internal error"), and which the suite's batches would otherwise pile into.
 */
function isolatedCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "batch-calls-browser-"));
  for (const entry of readdirSync(ROOT)) {
    if (entry === ".wrangler" || entry === "scripts") continue;
    symlinkSync(join(ROOT, entry), join(dir, entry));
  }
  mkdirSync(join(dir, "scripts"));
  copyFileSync(join(ROOT, "scripts", "dev.mjs"), join(dir, "scripts", "dev.mjs"));
  // What dev.mjs imports from scripts/lib resolves next to the copy: link the folder.
  symlinkSync(join(ROOT, "scripts", "lib"), join(dir, "scripts", "lib"));
  return dir;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(OUT_DIR, { recursive: true });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const out = openSync(LOG, "w");
  const checkout = isolatedCheckout();
  // detached: its own process group, as `npm start` in a terminal has; dev.mjs keeps wrangler
  // and workerd in that group, so one signal to the group reaches every process it started.
  const child = spawn(process.execPath, ["scripts/dev.mjs"], {
    cwd: checkout,
    detached: true,
    stdio: ["ignore", out, out],
    // DEV_TIME_SCALE: the simulated agent's "call me back in two hours" comes after 10 s (its floor).
    env: { ...process.env, PORT: String(port), SIM_CALL_SECONDS: "1", DEV_TIME_SCALE: "3600" },
  });
  // If this process dies before teardown, the server must not outlive it.
  const killNow = () => {
    if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
  };
  process.on("exit", killNow);
  const teardown = async () => {
    await stopGroup(child);
    process.off("exit", killNow);
    if (process.env.BROWSER_TESTS_KEEP_STATE === "1") console.log(`browser tests: kept the server's state in ${checkout}`);
    else rmSync(checkout, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, 150_000);
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide("baseUrl", baseUrl);
  return teardown;
}
