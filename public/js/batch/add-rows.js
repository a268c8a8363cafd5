// @ts-check
// "Add rows" on the batch page: a CSV with the batch's columns appended to a batch that is not
// final. The server leaves out numbers already in the batch and those on the do-not-call list;
// the page says how many it added and left out, or shows the file's invalid rows as the New
// batch form does.

import { ApiError, newIdempotencyKey, request } from "../api.js";
import { rowErrors } from "../new-batch/verdict.js";
import { field, h, showError } from "../ui.js";
import { addedText } from "./campaign-text.js";

/** @typedef {import("../types.js").AppendRowsResponse} AppendRowsResponse */
/** @typedef {import("../types.js").BatchStatusName} BatchStatusName */

/** The states the API appends rows in. */
const OPEN = ["draft", "queued", "processing", "paused"];

/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal
 * @param {() => Promise<void>} added runs after rows were added (the page reads the new totals)
 */
export function addRowsSection(base, signal, added) {
  let busy = false;
  const file = h("input", { type: "file", name: "file", id: "rows-file", accept: ".csv,text/csv" });
  const error = h("div", { class: "error", role: "alert" });
  const result = h("p", { role: "status", "data-testid": "rows-added" });
  const rows = h("div");
  const el = h(
    "form",
    { class: "card", hidden: true, novalidate: true, "aria-labelledby": "rows-title" },
    h("h2", { id: "rows-title" }, "Add rows"),
    field("CSV file to add", file, "The same columns as the batch's file, in any order. Numbers already in the batch or on the do-not-call list are left out."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Add rows")),
    error,
    result,
    rows,
  );

  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return showError(error, new Error("Choose a CSV file first."));
    if (busy) return;
    busy = true;
    showError(error, null);
    result.textContent = "";
    rows.replaceChildren();
    const body = new FormData();
    body.append("file", chosen);
    try {
      // One key per click: a retry after a lost response adds the file once.
      /** @type {AppendRowsResponse} */
      const r = await request(`${base}/rows`, { method: "POST", body, headers: { "idempotency-key": newIdempotencyKey() }, signal });
      result.textContent = addedText(r);
      file.value = "";
      await added();
    } catch (err) {
      if (signal.aborted) return;
      showError(error, err);
      if (err instanceof ApiError && err.status === 400) rows.replaceChildren(...rowErrors(err.details));
    } finally {
      busy = false;
    }
  });

  return {
    el,
    /** @param {BatchStatusName} status */
    show(status) {
      el.hidden = !OPEN.includes(status);
    },
  };
}
