// @ts-check
// One batch, live: counters and progress from the event stream (or /status
// polling when the stream isn't available), charts, the calls table, controls.
// This file lays the page out and passes what one part hears to the others.

import { request } from "../api.js";
import { h, showError } from "../ui.js";
import { addRowsSection } from "./add-rows.js";
import { callsSection } from "./calls.js";
import { chartsSection } from "./charts-section.js";
import { batchControls } from "./controls.js";
import { editSection } from "./edit-form.js";
import { rateAndFinish, rateSamples } from "./estimates.js";
import { FINAL } from "./final.js";
import { batchHeader } from "./header.js";
import { callLedger } from "./ledger.js";
import { liveUpdates } from "./live.js";
import { progressSection } from "./progress.js";
import { testCallsSection } from "./test-calls.js";

/** @typedef {import("../types.js").Batch} Batch */
/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("../types.js").StatusBody} StatusBody */

/** Bursts of events are drawn once per this many milliseconds. */
const RENDER_MS = 250;

/**
 * The #/batches/{id} page.
 * @param {HTMLElement} root
 * @param {string[]} params the batch's id
 * @returns {() => void} stops its streams and timers
 */
export function batchView(root, [batchId = ""]) {
  const abort = new AbortController();
  const { signal } = abort;
  const base = `/batch-calls/${batchId}`;
  /** @type {Batch | null} GET /batch-calls/{id}: name, agent, options */
  let batch = null;
  /** @type {StatusBody | null} the latest /status body */
  let status = null;
  /** @type {number | undefined} */
  let renderTimer;

  const samples = rateSamples();
  const ledger = callLedger(base, signal);
  const header = batchHeader(batchId);
  const controls = batchControls({ batchId, base, signal, afterAction: refreshAfterAction });
  const edit = editSection({ base, signal, saved: showSaved });
  controls.bar.append(edit.toggle);
  const testCalls = testCallsSection(base, signal);
  const addRows = addRowsSection(base, signal, rowsAdded);
  const progress = progressSection();
  const error = h("div", { class: "error", role: "alert" });
  const charts = chartsSection();
  const calls = callsSection(base, signal);
  const live = liveUpdates(base, signal, {
    current: () => status,
    status: setStatus,
    batchStatus: ({ status: s, pausedReason = null }) => status && setStatus({ ...status, status: s, pausedReason }),
    call: callChanged,
    polled: calls.refreshSoon,
    finished: finish,
    error: (err) => showError(error, err),
  });

  root.append(
    ...header.els,
    controls.bar,
    controls.actionError,
    controls.actionNote,
    ...edit.els,
    progress.el,
    testCalls.el,
    addRows.el,
    error,
    charts.el,
    calls.el,
    controls.dialog,
  );

  /** Coalesces bursts of events into one repaint every 250 ms. */
  function scheduleRender() {
    renderTimer ??= setTimeout(() => {
      renderTimer = undefined;
      render();
    }, RENDER_MS);
  }

  function render() {
    if (!status) return;
    header.showStatus(status);
    progress.show(status, { ...rateAndFinish(status, batch, ledger.calls(), samples), liveMode: live.mode() });
    controls.show(status.status);
    edit.show(status.status);
    testCalls.show(status.status);
    addRows.show(status.status);
    charts.show(status, ledger.calls(), ledger.complete() ? null : status.total);
    calls.setDispositions(status.dispositions ?? {});
  }

  /** @param {StatusBody} body */
  function setStatus(body) {
    status = body;
    samples.add(body);
    for (const c of body.recent_calls ?? []) ledger.upsert(c);
    scheduleRender();
  }

  /** @param {Call} c */
  function callChanged(c) {
    ledger.upsert(c);
    calls.callChanged(c);
    scheduleRender();
  }

  async function loadLedger() {
    await ledger.load();
    scheduleRender();
  }

  /** The batch is final: one last read so the charts and table show every call's end. */
  async function finish() {
    await Promise.all([loadLedger(), calls.load()]).catch((err) => !signal.aborted && showError(error, err));
    scheduleRender();
  }

  /**
   * An edit was saved: the batch as the PATCH answered it (its name, options and counts).
   * @param {Batch} saved
   */
  function showSaved(saved) {
    batch = saved;
    header.showBatch(saved, root);
    edit.setBatch(saved);
    setStatus(saved.progress);
  }

  /** Rows were appended: the new totals, and the batch again (a draft's estimate counts them). */
  async function rowsAdded() {
    await refreshAfterAction();
    showSaved(await request(base, { signal }));
  }

  /** After start, pause, resume, cancel or retry: the new status at once, and live updates (a retried batch runs again after its stream had ended). */
  async function refreshAfterAction() {
    setStatus(await request(`${base}/status`, { signal }));
    live.start();
  }

  async function start() {
    try {
      batch = /** @type {Batch} */ (await request(base, { signal }));
      header.showBatch(batch, root);
      edit.setBatch(batch);
      setStatus(batch.progress);
      testCalls.load();
      // A finished batch has nothing more to stream (Retry starts live updates again).
      if (FINAL.has(batch.status)) live.ended();
      else live.start();
      render();
      await Promise.all([loadLedger(), calls.load()]);
    } catch (err) {
      header.showId();
      if (!signal.aborted) showError(error, err);
    }
  }

  start();
  return () => {
    abort.abort();
    calls.stop();
    clearTimeout(renderTimer);
  };
}
