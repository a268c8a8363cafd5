// @ts-check
// Checks that stopping `npm start` stops every process it started (contract: Local
// development defaults). For each way of stopping it — SIGINT / SIGTERM / SIGKILL to
// its whole process group (Ctrl-C, `kill -- -PGID`), SIGTERM / SIGHUP to the node process
// alone — it starts the dev server as a shell job would (its own process group), waits
// for /healthz, stops it, and fails if any process of that group or the port survives.
//
//   node scripts/check-dev-stop.mjs            (PORT defaults to 8791)
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.PORT ?? 8791);
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @typedef {{ pid: number }} Group the process group npm leads (its pid is the group's id) */

/** @type {[string, (g: Group) => void][]} */
const WAYS = [
  ["SIGINT to the group (Ctrl-C)", (g) => process.kill(-g.pid, "SIGINT")],
  ["SIGTERM to the group (kill -- -PGID)", (g) => process.kill(-g.pid, "SIGTERM")],
  ["SIGKILL to the group (kill -9 -- -PGID)", (g) => process.kill(-g.pid, "SIGKILL")],
  ["SIGTERM to the node process alone", (g) => process.kill(devPid(g.pid), "SIGTERM")],
  ["SIGHUP to the node process alone", (g) => process.kill(devPid(g.pid), "SIGHUP")],
];

/** @returns {{ pid: number, pgid: number, args: string }[]} */
function processes() {
  const r = spawnSync("ps", ["-A", "-o", "pid=,pgid=,args="], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), args: m[3] ?? "" }));
}

/** @param {number} pgid */
const groupMembers = (pgid) => processes().filter((p) => p.pgid === pgid);

/**
 * What the run left behind: its group, and anything that escaped it serving our port.
 * @param {number} pgid
 */
const leftovers = (pgid) => processes().filter((p) => p.pgid === pgid || p.args.includes(`--port ${port} `) || p.args.includes(`127.0.0.1:${port} `));

/**
 * The `node scripts/dev.mjs` process in the group npm leads.
 * @param {number} pgid
 */
function devPid(pgid) {
  const p = groupMembers(pgid).find((m) => /scripts\/dev\.mjs/.test(m.args) && !/^sh /.test(m.args));
  if (!p) throw new Error("node scripts/dev.mjs not found");
  return p.pid;
}

/** @returns {Promise<boolean>} */
const portIsFree = () =>
  new Promise((resolve) => {
    const s = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** @param {number} timeoutMs */
async function healthy(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) return true;
    } catch {
      // not yet
    }
    await sleep(500);
  }
  return false;
}

let failed = 0;
for (const [name, stop] of WAYS) {
  if (!(await portIsFree())) throw new Error(`port ${port} is busy before the check; stop whatever uses it`);
  // detached = a new process group led by npm, as a shell job (or a terminal's foreground job) is.
  const npm = spawn("npm", ["start"], { cwd: root, detached: true, stdio: "ignore", env: { ...process.env, PORT: String(port) } });
  // A pid, or spawn failed, and its unhandled 'error' event ends this script.
  const g = { pid: /** @type {number} */ (npm.pid) };
  if (!(await healthy(120_000))) {
    for (const m of leftovers(g.pid)) process.kill(m.pid, "SIGKILL");
    throw new Error("the dev server did not answer /healthz within 2 minutes");
  }
  stop(g);
  // Up to 10 s for a graceful shutdown (dev.mjs escalates to SIGKILL after 5 s).
  let left = leftovers(g.pid);
  for (let i = 0; i < 20 && (left.length > 0 || !(await portIsFree())); i++) {
    await sleep(500);
    left = leftovers(g.pid);
  }
  const free = await portIsFree();
  const ok = left.length === 0 && free;
  if (!ok) failed++;
  console.log(
    `${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: port ${free ? "free" : "still in use"}, left: ${left.map((m) => `${m.pid} ${m.args.slice(0, 80)}`).join("; ") || "none"}`}`,
  );
  for (const m of left) {
    try {
      process.kill(m.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 20 && !(await portIsFree()); i++) await sleep(250);
}
process.exit(failed ? 1 : 0);
