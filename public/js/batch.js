// One batch, live: counters and progress from the event stream (or /status
// polling when the stream isn't available), charts, the calls table, controls.

import { readEvents, request } from "./api.js";
import { dataTable, finishedOf, fmtDuration, fmtNumber, fmtTime, h, makePager, progressBar, saveBlob, showError } from "./ui.js";
import { outcomeChart, rateChart } from "./charts.js";

const FINAL = new Set(["completed", "cancelled", "failed"]);
const STATUSES = ["all", "waiting", "active", "completed", "failed", "cancelled"];
const COUNTERS = ["waiting", "active", "completed", "failed", "cancelled"];
/** The outcome chart and calls-per-minute chart read at most this many calls (see loadLedger). */
const LEDGER_PAGES = 10;
const sleep = (ms, signal) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      r();
    });
  });

export function batchView(root, [batchId]) {
  const abort = new AbortController();
  const { signal } = abort;
  const base = `/batch-calls/${batchId}`;
  let batch = null; // GET /batch-calls/{id}: name, agent, options
  let status = null; // the latest /status body
  let liveMode = "connecting";
  let liveRunning = false;
  /** live() was asked for while it was still finishing (a retry clicked as the last pass ended): run it again after. */
  let liveAgain = false;
  /** Only the newest page read may draw the table: an older one answering late would show calls as they were. */
  let callsRead = 0;
  const samples = []; // [{t, finished}] seen while the page is open, for the current rate

  // Per-call outcomes for the charts. /status only counts completed / failed /
  // cancelled; answered vs voicemail (and no answer vs busy) is per call. So the
  // page reads the batch's calls once, up to LEDGER_PAGES × 100 of them, then
  // keeps that map current from `call` events (or /status's recent_calls when
  // polling), and reads it once more when the batch ends. For a bigger batch the
  // charts say they cover a sample; the counters above them are always exact.
  const ledger = new Map();
  let ledgerComplete = false;

  // Shown once the batch's name is known, so the heading never changes under a reader.
  const h1 = h("h1", { tabindex: -1, hidden: true }, batchId);
  const statusEl = h("p", { "data-testid": "batch-status", class: "status-line" }, "Status: loading…");
  const meta = h("p", { class: "hint" });
  const liveEl = h("p", { class: "hint" });
  const error = h("div", { class: "error", role: "alert" });
  const actionError = h("div", { class: "error", role: "alert" });
  const actionNote = h("p", { role: "status", class: "hint" });
  const barSlot = h("div", { class: "bar-slot" });
  const counterEls = Object.fromEntries(COUNTERS.map((k) => [k, h("dd", { "data-testid": `count-${k}` }, "0")]));
  const counters = h(
    "dl",
    { class: "stats" },
    COUNTERS.map((k) => h("div", { class: `stat stat-${k}` }, h("dt", {}, k[0].toUpperCase() + k.slice(1)), counterEls[k])),
  );
  const avgEl = h("dd", {}, "—");
  const etaEl = h("dd", {}, "—");
  const rateEl = h("dd", {}, "—");
  const outcomeSlot = h("div");
  const rateSlot = h("div");

  // Controls: each is shown only while the batch's state allows it.
  const btn = (label, cls, onclick) => h("button", { type: "button", class: cls, hidden: true, onclick }, label);
  const buttons = {
    pause: btn("Pause", "secondary", () => act("POST", "/pause")),
    resume: btn("Resume", "", () => act("POST", "/resume")),
    cancel: btn("Cancel batch", "danger", () => {
      dialog.returnValue = "";
      dialog.showModal();
    }),
    retry: btn("Retry failed", "secondary", () => act("POST", "/retry")),
  };
  const VALID = { pause: ["queued", "processing"], resume: ["paused"], cancel: ["queued", "processing", "paused"], retry: ["completed"] };
  const download = h("a", { href: `/v1/api${base}/results.csv`, class: "button secondary", onclick: downloadCsv }, "Download results.csv");

  const dialog = h(
    "dialog",
    { "aria-labelledby": "cancel-title", onclose: () => dialog.returnValue === "yes" && act("DELETE", "") },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "cancel-title" }, "Cancel this batch?"),
      h("p", {}, "Calls not yet dialled are cancelled at once; calls in progress finish. This can't be undone."),
      h(
        "div",
        { class: "actions" },
        h("button", { value: "yes", class: "danger" }, "Yes, cancel"),
        h("button", { value: "no", class: "secondary", autofocus: true }, "Keep running"),
      ),
    ),
  );

  // The calls table: status filter and pages; refreshed live.
  let callsPage = 1;
  let callsTimer = null;
  let callRows = [];
  const filter = h(
    "select",
    {
      id: "calls-filter",
      onchange: () => {
        callsPage = 1;
        loadCalls();
      },
    },
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const callsTable = dataTable("Calls", ["Number", "Status", "Outcome", "Attempts", "Next attempt", "Error"], "No calls match this filter.", {
    hideCaption: true,
  });
  const callsPager = makePager((n) => {
    callsPage = n;
    loadCalls();
  }, "calls");
  const callsError = h("div", { class: "error", role: "alert" });

  root.append(
    h1,
    statusEl,
    meta,
    h("div", { class: "actions" }, Object.values(buttons), download),
    actionError,
    actionNote,
    h(
      "section",
      { class: "card", "aria-labelledby": "progress-title" },
      h("h2", { id: "progress-title" }, "Progress"),
      barSlot,
      counters,
      h(
        "dl",
        { class: "stats" },
        h("div", { class: "stat" }, h("dt", {}, "Average duration"), avgEl),
        h("div", { class: "stat" }, h("dt", {}, "Current rate"), rateEl),
        h("div", { class: "stat" }, h("dt", {}, "Estimated time to finish"), etaEl),
      ),
      liveEl,
    ),
    error,
    h(
      "div",
      { class: "charts" },
      h("section", { class: "card", "aria-labelledby": "outcomes-title" }, h("h2", { id: "outcomes-title" }, "Outcomes"), outcomeSlot),
      h("section", { class: "card", "aria-labelledby": "rate-title" }, h("h2", { id: "rate-title" }, "Calls finished per minute"), rateSlot),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "calls-title" },
      h("h2", { id: "calls-title" }, "Calls"),
      h("div", { class: "field inline" }, h("label", { for: "calls-filter" }, "Status filter"), filter),
      callsError,
      callsTable.el,
      callsPager.el,
    ),
    dialog,
  );

  // ---- rendering -------------------------------------------------------

  let renderTimer = null;
  /** Coalesces bursts of events into one repaint every 250 ms. */
  function scheduleRender() {
    renderTimer ??= setTimeout(() => {
      renderTimer = null;
      render();
    }, 250);
  }

  function render() {
    if (!status) return;
    statusEl.textContent = `Status: ${status.status}`;
    statusEl.className = `status-line status-${status.status}`;
    barSlot.replaceChildren(progressBar(status, "Calls finished"));
    for (const k of COUNTERS) counterEls[k].textContent = String(status[k] ?? 0);
    avgEl.textContent = status.averageCallDuration ? `${status.averageCallDuration.toFixed(1)} s` : "—";
    const rate = currentRate();
    rateEl.textContent = rate ? `${(rate * 60).toFixed(1)} calls/min` : "—";
    etaEl.textContent = eta(rate);
    liveEl.textContent = {
      stream: "Live: updates arrive as they happen.",
      polling: "Live: checking every 2 seconds.",
      connecting: "Connecting…",
      done: "This batch has finished.",
    }[liveMode];
    for (const [name, el] of Object.entries(buttons)) {
      const hide = !VALID[name].includes(status.status);
      if (hide && el === document.activeElement) queueMicrotask(() => (Object.values(buttons).find((b) => !b.hidden) ?? download).focus());
      el.hidden = hide;
    }
    const calls = [...ledger.values()];
    const note = ledgerComplete ? null : `Counted over ${fmtNumber(calls.length)} of ${fmtNumber(status.total)} calls.`;
    outcomeSlot.replaceChildren(outcomeChart(calls), ...(note ? [h("p", { class: "hint" }, note)] : []));
    rateSlot.replaceChildren(rateChart(calls), ...(note ? [h("p", { class: "hint" }, note)] : []));
  }

  /** Calls finished per second: over the last two minutes watched (to now, so a stall shows), else since the first dial. */
  function currentRate() {
    const first = samples.find((s) => s.t > Date.now() - 120_000);
    const span = first && Date.now() - first.t;
    if (span >= 10_000) return ((finishedOf(status) - first.finished) * 1000) / span;
    const since = status.startTime && (status.completedTime ?? Date.now()) - status.startTime;
    return since > 0 && finishedOf(status) > 0 ? (finishedOf(status) * 1000) / since : 0;
  }

  function eta(rate) {
    if (FINAL.has(status.status)) return status.completedTime ? `Finished ${fmtTime(status.completedTime)}` : "Finished";
    if (status.status === "paused") return "Paused";
    if (status.status === "queued" && batch?.scheduledAt) return `Starts ${fmtTime(batch.scheduledAt)}`;
    // Calls waiting for a callback are due at their own time, not at the dialling rate:
    // they are counted apart (from the per-call data the page holds).
    const callbacks = [...ledger.values()].filter((c) => c.status === "waiting" && c.nextAttemptAt);
    const fresh = status.total - finishedOf(status) - callbacks.length;
    const later = callbacks.length ? `${fmtNumber(callbacks.length)} callbacks due from ${fmtTime(callbacks.map((c) => c.nextAttemptAt).sort()[0])}` : "";
    if (fresh <= 0) return later || "—";
    const now = rate > 0 ? `about ${fmtDuration(fresh / rate)}` : "— (waiting for calls to finish)";
    return later ? `${now}, then ${later}` : now;
  }

  function setStatus(body) {
    status = body;
    samples.push({ t: Date.now(), finished: finishedOf(body) });
    while (samples.length > 2 && samples[0].t < Date.now() - 120_000) samples.shift();
    for (const c of body.recent_calls ?? []) upsert(c);
    scheduleRender();
  }

  // ---- per-call data -----------------------------------------------------

  /** Within one attempt: not dialled yet, then being dialled, then ended (final, or waiting for a callback). */
  const stage = (c) => (c.status === "active" ? 1 : c.status === "waiting" && !c.outcome ? 0 : 2);
  /** Keeps the newer of two views of a call (a page read can race a `call` event). */
  function upsert(c) {
    const old = ledger.get(c.jobId);
    if (old && (old.attempts > c.attempts || (old.attempts === c.attempts && stage(old) > stage(c)))) return;
    if (!old && ledger.size >= LEDGER_PAGES * 100) return;
    ledger.set(c.jobId, { status: c.status, outcome: c.outcome, endTime: c.endTime, attempts: c.attempts, nextAttemptAt: c.nextAttemptAt });
  }

  async function loadLedger() {
    for (let page = 1; page <= LEDGER_PAGES; page++) {
      const res = await request(`${base}/calls?page=${page}&limit=100`, { signal });
      res.calls.forEach(upsert);
      ledgerComplete = !res.pagination.hasNext;
      if (!res.pagination.hasNext) break;
    }
    scheduleRender();
  }

  async function loadCalls() {
    clearTimeout(callsTimer);
    callsTimer = null;
    const read = ++callsRead;
    try {
      const res = await request(`${base}/calls?page=${callsPage}&limit=20&status=${filter.value}`, { signal });
      if (read !== callsRead) return;
      callRows = res.calls;
      drawCalls();
      callsPager.update(res.pagination);
      showError(callsError, null);
    } catch (err) {
      if (!signal.aborted) showError(callsError, err);
    }
  }

  function drawCalls() {
    callsTable.setRows(
      callRows.map((c) => [
        c.phone_number,
        h("span", { class: `badge status-${c.status}` }, c.status),
        c.outcome?.replace("_", " ") ?? "—",
        String(c.attempts),
        fmtTime(c.nextAttemptAt),
        c.error ?? "—",
      ]),
    );
  }

  /** A call changed: show it at once if it's on screen, and re-read the page soon (new rows may now match the filter). */
  function callChanged(c) {
    upsert(c);
    const i = callRows.findIndex((r) => r.jobId === c.jobId);
    if (i >= 0) {
      callRows[i] = c;
      drawCalls();
    }
    callsTimer ??= setTimeout(loadCalls, 2000);
    scheduleRender();
  }

  // ---- live updates --------------------------------------------------------

  /**
   * The event stream, reconnecting with Last-Event-ID when it drops before the
   * batch is final. If the server has no stream (404) or it keeps failing,
   * /status is polled every 2 s instead.
   */
  async function live() {
    if (liveRunning) {
      liveAgain = true;
      return;
    }
    liveRunning = true;
    let lastId = null;
    let failures = 0;
    try {
      while (!signal.aborted) {
        try {
          await readEvents(`${base}/events`, {
            signal,
            lastEventId: lastId,
            onEvent(name, data, id) {
              if (id) lastId = id;
              failures = 0;
              liveMode = "stream";
              if (name === "snapshot" || name === "progress") setStatus(data);
              else if (name === "call") callChanged(data);
              else if (name === "batch" && status) setStatus({ ...status, status: data.status });
            },
          });
          if (status && FINAL.has(status.status)) return finish();
        } catch (err) {
          if (signal.aborted) return;
          if (err.status === 401 || err.status === 403) throw err;
          if (err.status === 404 || ++failures >= 3) return await poll();
        }
        await sleep(1500, signal);
      }
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    } finally {
      liveRunning = false;
      if (liveAgain && !signal.aborted) {
        liveAgain = false;
        live();
      }
    }
  }

  async function poll() {
    liveMode = "polling";
    while (!signal.aborted) {
      try {
        setStatus(await request(`${base}/status`, { signal }));
        showError(error, null);
        if (FINAL.has(status.status)) return finish();
        callsTimer ??= setTimeout(loadCalls, 2000);
      } catch (err) {
        if (signal.aborted) return;
        showError(error, err);
      }
      await sleep(2000, signal);
    }
  }

  /** The batch is final: one last read so the charts and table show every call's end. */
  async function finish() {
    liveMode = "done";
    await Promise.all([loadLedger(), loadCalls()]).catch((err) => !signal.aborted && showError(error, err));
    scheduleRender();
  }

  // ---- actions ---------------------------------------------------------------

  let busy = false;
  async function act(method, path) {
    // A guard, not `disabled`: disabling the focused button would drop keyboard focus to <body>.
    if (busy) return;
    busy = true;
    showError(actionError, null);
    actionNote.textContent = "";
    try {
      const res = await request(base + path, { method, signal });
      actionNote.textContent = res.message;
      setStatus(await request(`${base}/status`, { signal }));
      live(); // a retried batch runs again after its stream had ended
    } catch (err) {
      if (!signal.aborted) showError(actionError, err);
    } finally {
      busy = false;
    }
  }

  async function downloadCsv(e) {
    e.preventDefault();
    showError(actionError, null);
    try {
      const res = await request(`${base}/results.csv`, { raw: true, signal });
      saveBlob(await res.blob(), `${batchId}-results.csv`);
    } catch (err) {
      if (!signal.aborted) showError(actionError, err);
    }
  }

  // ---- start -------------------------------------------------------------------

  (async () => {
    try {
      batch = await request(base, { signal });
      h1.textContent = batch.name || batch.id;
      h1.hidden = false;
      if (document.activeElement === document.body || document.activeElement === root) h1.focus();
      document.title = `${h1.textContent} · Batch Calls`;
      const opts = [`Agent ${batch.agentId}`, `created ${fmtTime(batch.createdAt)}`];
      if (batch.scheduledAt) opts.push(`scheduled for ${fmtTime(batch.scheduledAt)}`);
      if (batch.smartCallbackConfig?.enabled) opts.push(`up to ${batch.smartCallbackConfig.maxAttempts} attempts per number`);
      if (batch.callingWindow) opts.push(`calls only ${batch.callingWindow.start}–${batch.callingWindow.end}`);
      meta.textContent = opts.join(" · ");
      setStatus(batch.progress);
      // A finished batch has nothing more to stream (Retry starts live updates again).
      if (FINAL.has(batch.status)) liveMode = "done";
      else live();
      render();
      await Promise.all([loadLedger(), loadCalls()]);
    } catch (err) {
      h1.hidden = false;
      if (!signal.aborted) showError(error, err);
    }
  })();

  return () => {
    abort.abort();
    clearTimeout(callsTimer);
    clearTimeout(renderTimer);
  };
}
