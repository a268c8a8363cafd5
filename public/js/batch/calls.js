// @ts-check
// The Calls card: a status filter, one page of the batch's calls, Previous / Next; refreshed live.

import { request } from "../api.js";
import { dataTable, fmtTime, h, makePager, showError } from "../ui.js";

/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("../types.js").CallPage} CallPage */

const STATUSES = ["all", "waiting", "active", "completed", "failed", "cancelled"];
/** A change seen live re-reads the page this long after (changes in between share the read). */
const REFRESH_MS = 2000;

/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal ends reads when the page closes
 */
export function callsSection(base, signal) {
  let page = 1;
  /** @type {number | undefined} */
  let timer;
  /** @type {Call[]} */
  let rows = [];
  /** Only the newest page read may draw the table: an older one answering late would show calls as they were. */
  let reads = 0;

  const filter = h(
    "select",
    {
      id: "calls-filter",
      onchange: () => {
        page = 1;
        load();
      },
    },
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const table = dataTable("Calls", ["Number", "Status", "Outcome", "Attempts", "Next attempt", "Error"], "No calls match this filter.", {
    hideCaption: true,
  });
  const pager = makePager((n) => {
    page = n;
    load();
  }, "calls");
  const error = h("div", { class: "error", role: "alert" });

  /** Reads the page the filter and pager point at, and shows it. */
  async function load() {
    clearTimeout(timer);
    timer = undefined;
    const read = ++reads;
    try {
      /** @type {CallPage} */
      const res = await request(`${base}/calls?page=${page}&limit=20&status=${filter.value}`, { signal });
      if (read !== reads) return;
      rows = res.calls;
      draw();
      pager.update(res.pagination);
      showError(error, null);
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    }
  }

  function draw() {
    table.setRows(
      rows.map((c) => [
        c.phone_number,
        h("span", { class: `badge status-${c.status}` }, c.status),
        c.outcome?.replace("_", " ") ?? "—",
        String(c.attempts),
        fmtTime(c.nextAttemptAt),
        c.error ?? "—",
      ]),
    );
  }

  /** Re-reads the page soon, once however often it is asked for before then. */
  function refreshSoon() {
    timer ??= setTimeout(load, REFRESH_MS);
  }

  return {
    el: h(
      "section",
      { class: "card", "aria-labelledby": "calls-title" },
      h("h2", { id: "calls-title" }, "Calls"),
      h("div", { class: "field inline" }, h("label", { for: "calls-filter" }, "Status filter"), filter),
      error,
      table.el,
      pager.el,
    ),
    load,
    refreshSoon,
    /**
     * A call changed: show it at once if it's on screen, and re-read the page soon (new rows may now match the filter).
     * @param {Call} c
     */
    callChanged(c) {
      const i = rows.findIndex((r) => r.jobId === c.jobId);
      if (i >= 0) {
        rows[i] = c;
        draw();
      }
      refreshSoon();
    },
    stop: () => clearTimeout(timer),
  };
}
