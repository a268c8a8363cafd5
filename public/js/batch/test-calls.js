// @ts-check
// "Test calls" on the batch page: one call from a draft or paused batch to the operator's own
// number, with one row's variables, through the batch's agent, outside the batch's counters;
// and the batch's test calls with their outcome and the agent's result, re-read every 2 s
// until each has ended (and an answered one's result has come).

import { request } from "../api.js";
import { dataTable, field, fmtDuration, fmtTime, h, showError } from "../ui.js";
import { testResultText, unsettled } from "./campaign-text.js";
import { outcomeText } from "./call-text.js";
import { sleep } from "./sleep.js";

/** @typedef {import("../types.js").BatchStatusName} BatchStatusName */
/** @typedef {import("../types.js").TestCall} TestCall */

/** The states the API places a test call in. */
const ALLOWED = ["draft", "paused"];
const REFRESH_MS = 2000;
/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal
 */
export function testCallsSection(base, signal) {
  /** @type {BatchStatusName | null} */
  let status = null;
  /** @type {TestCall[]} */
  let calls = [];
  let busy = false;
  let polling = false;
  /** load() was asked for while a read was under way (a call was just placed): read again after it. */
  let again = false;
  const to = h("input", { type: "tel", name: "to", id: "t-to", autocomplete: "tel", placeholder: "+14155550100" });
  const row = h("input", { type: "number", name: "row", id: "t-row", min: 1, value: 1 });
  const error = h("div", { class: "error", role: "alert" });
  const note = h("p", { role: "status", class: "hint" });
  const list = dataTable("Test calls", ["Started", "To", "Row", "Status", "Outcome", "Duration", "Result"], "No test calls yet.", {
    hideCaption: true,
    stack: true,
  });
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Place a test call" },
    h(
      "div",
      { class: "row" },
      field("Your number", to, "E.164 (+14155550100), or a national number of the batch's country."),
      field("Row", row, "The data row whose variables the agent gets: 1 is the first row under the header."),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Test call")),
  );
  const el = h(
    "section",
    { class: "card", hidden: true, "aria-labelledby": "test-calls-title" },
    h("h2", { id: "test-calls-title" }, "Test calls"),
    h(
      "p",
      { class: "hint" },
      "A call to your own number through the batch's agent, with one row's variables. It is not counted in the batch's progress or results.",
    ),
    form,
    error,
    note,
    list.el,
  );

  function paint() {
    el.hidden = !(status && ALLOWED.includes(status)) && calls.length === 0;
    form.hidden = !(status && ALLOWED.includes(status));
    list.setRows(
      calls.map((c) => [
        fmtTime(c.startTime),
        c.to,
        String(c.row),
        h("span", { class: `badge status-${c.status}` }, c.status),
        c.error ? `${outcomeText(c.outcome)} (${c.error})` : outcomeText(c.outcome),
        c.duration === null ? "—" : fmtDuration(c.duration),
        testResultText(c.result),
      ]),
    );
  }

  /** Reads the list, then again every 2 s while a test call is still going. */
  async function load() {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    try {
      while (!signal.aborted) {
        /** @type {{ testCalls: TestCall[] }} */
        const r = await request(`${base}/test-calls`, { signal });
        calls = r.testCalls;
        paint();
        const now = Date.now();
        if (!calls.some((c) => unsettled(c, now))) return;
        await sleep(REFRESH_MS, signal);
      }
    } catch (err) {
      // A server without test calls yet answers 404: the section stays as it is.
      if (!signal.aborted && !(typeof err === "object" && err !== null && "status" in err && err.status === 404)) showError(error, err);
    } finally {
      polling = false;
      if (again && !signal.aborted) {
        again = false;
        load();
      }
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    if (!to.value.trim()) return showError(error, new Error("Enter your number first."));
    busy = true;
    showError(error, null);
    note.textContent = "";
    try {
      /** @type {TestCall} */
      const placed = await request(`${base}/test-call`, {
        method: "POST",
        json: { to: to.value.trim(), row: row.value.trim() ? Number(row.value) : 1 },
        signal,
      });
      note.textContent = `Calling ${placed.to} with row ${placed.row}.`;
      calls = [placed, ...calls.filter((c) => c.callId !== placed.callId)];
      paint();
      load();
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    } finally {
      busy = false;
    }
  });

  return {
    el,
    load,
    /** @param {BatchStatusName} now */
    show(now) {
      if (now === status) return;
      status = now;
      paint();
    },
  };
}
