// @ts-check
/**
 * CPU use over a stretch of a bench run, from /proc (Linux only; elsewhere
 * every figure is null): how busy the machine's cores were, and how much of
 * that was the dev server's own processes (workerd and wrangler's Node,
 * found as the descendants of the process whose command line names the
 * server's state folder). Tells which side saturates: a run at the
 * machine's ceiling shows the cores busy; a run held back by the local
 * queue broker's delivery shows them partly idle.
 */
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/** @returns {{ busy: number, total: number } | null} jiffies over all cores */
function machineTimes() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** @returns {Map<number, { ppid: number, jiffies: number, comm: string }>} */
function processes() {
  /** @type {Map<number, { ppid: number, jiffies: number, comm: string }>} */
  const out = new Map();
  let pids;
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      // After the command: state ppid … utime (12th) stime (13th), counted from state = 0.
      out.set(Number(pid), { ppid: Number(f[1]), jiffies: Number(f[11]) + Number(f[12]), comm });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * The pids of the server whose command line mentions `marker` (its state folder) and of all their descendants.
 * @param {string} marker
 * @param {Map<number, { ppid: number }>} procs
 */
function serverPids(marker, procs) {
  /** @type {Set<number>} */
  const roots = new Set();
  for (const pid of procs.keys()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) roots.add(pid);
    } catch {
      // exited meanwhile
    }
  }
  const all = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!all.has(pid) && all.has(p.ppid)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return all;
}

/**
 * Samples CPU every `everyMs` from now on; `between(t0, t1)` gives, over the
 * samples closest inside [t0, t1] (epoch ms), the cores' busy share (0–1,
 * all cores together), the server's use in cores (1 = one core fully used)
 * and by process name, e.g. `{ workerd: 1.0, node: 0.4 }`. `stop()` ends it.
 * @param {string} marker the server's state folder (server.dir)
 */
export function cpuWatch(marker, everyMs = 1000) {
  /** @type {{ at: number, machine: { busy: number, total: number } | null, byPid: Map<number, { jiffies: number, comm: string }> }[]} */
  const samples = [];
  const take = () => {
    const procs = processes();
    const pids = serverPids(marker, procs);
    /** @type {Map<number, { jiffies: number, comm: string }>} */
    const byPid = new Map();
    for (const pid of pids) {
      const p = procs.get(pid);
      if (p) byPid.set(pid, { jiffies: p.jiffies, comm: p.comm });
    }
    samples.push({ at: Date.now(), machine: machineTimes(), byPid });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  const r2 = (/** @type {number} */ n) => Math.round(n * 100) / 100;
  return {
    stop: () => clearInterval(timer),
    /**
     * @param {number} t0
     * @param {number} t1
     */
    between(t0, t1) {
      take();
      const inside = samples.filter((s) => s.at >= t0 - 500 && s.at <= t1 + 500);
      const a = inside[0];
      const b = inside[inside.length - 1];
      if (!a || !b || b.at <= a.at) return { seconds: null, machineBusy: null, serverCores: null, serverByProcess: {}, loadAverage: os.loadavg().map(r2) };
      const seconds = (b.at - a.at) / 1000;
      const tick = 100; // USER_HZ on Linux
      /** @type {Record<string, number>} */
      const byComm = {};
      let used = 0;
      for (const [pid, now] of b.byPid) {
        const d = now.jiffies - (a.byPid.get(pid)?.jiffies ?? 0);
        used += d;
        byComm[now.comm] = (byComm[now.comm] ?? 0) + d;
      }
      const m = a.machine && b.machine && b.machine.total > a.machine.total ? (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total) : null;
      return {
        seconds: r2(seconds),
        cores: os.cpus().length,
        machineBusy: m === null ? null : r2(m),
        serverCores: r2(used / tick / seconds),
        serverByProcess: Object.fromEntries(Object.entries(byComm).map(([k, v]) => [k, r2(v / tick / seconds)])),
        loadAverage: os.loadavg().map(r2),
      };
    },
  };
}
