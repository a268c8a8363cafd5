// @ts-check
// The Calls card: status and disposition filters, one page of the batch's calls with
// the person's name, the agent's disposition, the call's duration and the row's other
// CSV columns, Previous / Next; refreshed live. A call's number opens its detail. A call
// held back (a contact policy, the agent's numbers, its calling window) says why and until when.

import { request } from "../api.js";
import { dataTable, fmtDuration, fmtTime, h, makePager, showError } from "../ui.js";
import { callDetail } from "./call-detail.js";
import { csvFields, heldFor, outcomeText, personName, waitReasonSentence } from "./call-text.js";

/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("./call-text.js").HeldCall} HeldCall */
/** @typedef {import("../types.js").CallPage} CallPage */

const STATUSES = ["all", "waiting", "active", "completed", "failed", "cancelled"];
/** A change seen live re-reads the page this long after (changes in between share the read). */
const REFRESH_MS = 2000;

/**
 * The row's other columns as a short "column: value" list (the detail has every one, whole).
 * @param {Record<string, string>} metadata
 */
function fieldsCell(metadata) {
  const { shown, more } = csvFields(metadata);
  if (!shown.length) return "—";
  return h(
    "ul",
    { class: "kv" },
    shown.map(([k, v]) => h("li", {}, h("span", { class: "kv-key" }, `${k}:`), ` ${v}`)),
    more ? h("li", { class: "hint" }, `and ${more} more`) : null,
  );
}

/**
 * The status badge, and for a held call why it waits: "waiting: contact policy — next attempt Tue 09:00".
 * @param {HeldCall} c
 */
function statusCell(c) {
  const badge = h("span", { class: `badge status-${c.status}` }, c.status);
  const held = heldFor(c);
  if (held === null || !c.waitReason) return badge;
  return h("span", {}, badge, h("span", { class: "wait-reason", title: waitReasonSentence(c.waitReason) }, `: ${held}`));
}

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
  /** The disposition labels offered, as last set (sorted). */
  let labels = "";

  const firstPage = () => {
    page = 1;
    load();
  };
  const filter = h(
    "select",
    { id: "calls-filter", onchange: firstPage },
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  // "" is every call: an agent's label could be any word, "all" included.
  const dispositionFilter = h("select", { id: "calls-disposition", onchange: firstPage }, h("option", { value: "" }, "all"));
  const table = dataTable(
    "Calls",
    ["Number", "Name", "Status", "Outcome", "Disposition", "Attempts", "Duration", "Next attempt", "Error", "Fields"],
    "No calls match these filters.",
    { hideCaption: true, stack: true },
  );
  const pager = makePager((n) => {
    page = n;
    load();
  }, "calls");
  const error = h("div", { class: "error", role: "alert" });
  const detail = callDetail(base, signal);

  /** Reads the page the filters and pager point at, and shows it. */
  async function load() {
    clearTimeout(timer);
    timer = undefined;
    const read = ++reads;
    const disposition = dispositionFilter.value ? `&disposition=${encodeURIComponent(dispositionFilter.value)}` : "";
    try {
      /** @type {CallPage} */
      const res = await request(`${base}/calls?page=${page}&limit=20&status=${filter.value}${disposition}`, { signal });
      if (read !== reads) return;
      rows = res.calls;
      draw();
      pager.update(res.pagination);
      showError(error, null);
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    }
  }

  /** The row's number is a button (data-key: the dataTable puts focus back on it after a refresh). */
  function draw() {
    table.setRows(
      rows.map((c) => [
        h("button", { type: "button", class: "link", "data-key": c.jobId, "aria-haspopup": "dialog", onclick: () => openDetail(c) }, c.phone_number),
        personName(c) || "—",
        statusCell(c),
        outcomeText(c.outcome),
        c.result?.disposition ?? "—",
        String(c.attempts),
        typeof c.duration === "number" ? fmtDuration(c.duration) : "—",
        fmtTime(c.nextAttemptAt),
        c.error ?? "—",
        fieldsCell(c.metadata),
      ]),
    );
  }

  /** @param {Call} c */
  function openDetail(c) {
    // The row may have been redrawn while the detail was open: focus goes back to its button as it is now.
    detail.open(c, () => /** @type {HTMLElement | null} */ (table.el.querySelector(`[data-key="${CSS.escape(c.jobId)}"]`))?.focus());
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
      h(
        "div",
        { class: "filters" },
        h("div", { class: "field inline" }, h("label", { for: "calls-filter" }, "Status filter"), filter),
        h("div", { class: "field inline" }, h("label", { for: "calls-disposition" }, "Disposition filter"), dispositionFilter),
      ),
      error,
      table.el,
      pager.el,
      detail.dialog,
    ),
    load,
    refreshSoon,
    /**
     * Offers the labels the batch's calls have (the /status counters); a chosen one stays offered.
     * @param {Record<string, number>} dispositions
     */
    setDispositions(dispositions) {
      const chosen = dispositionFilter.value;
      const next = Object.keys(dispositions).filter((k) => (dispositions[k] ?? 0) > 0 || k === chosen);
      if (chosen && !next.includes(chosen)) next.push(chosen);
      next.sort((a, b) => a.localeCompare(b));
      if (JSON.stringify(next) === labels) return;
      labels = JSON.stringify(next);
      dispositionFilter.replaceChildren(h("option", { value: "" }, "all"), ...next.map((d) => h("option", { value: d }, d)));
      dispositionFilter.value = chosen;
    },
    /**
     * A call changed: show it at once if it's on screen, and re-read the page soon (new rows may now match the filters).
     * @param {Call} c
     */
    callChanged(c) {
      const i = rows.findIndex((r) => r.jobId === c.jobId);
      if (i >= 0) {
        // An event's metadata is an excerpt (columns cut to 100 characters), and a row's columns never change: keep the page's.
        rows[i] = { ...c, metadata: { ...c.metadata, ...rows[i]?.metadata } };
        draw();
      }
      refreshSoon();
    },
    stop: () => clearTimeout(timer),
  };
}
