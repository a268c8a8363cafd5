// @ts-check
// The Outcomes, Dispositions and Calls finished per second / minute / hour cards. The
// first two read the server's counters in /status (exact for any size of batch); the
// rate chart reads per-call end times, which the page holds for a sample of the calls.

import { dispositionChart, outcomeChart, rateChart } from "../charts.js";
import { fmtNumber, h } from "../ui.js";

/** @typedef {import("./ledger.js").LedgerCall} LedgerCall */
/** @typedef {import("../types.js").StatusBody} StatusBody */

export function chartsSection() {
  const outcomeSlot = h("div");
  const dispositionSlot = h("div");
  const rateSlot = h("div");
  // The rate card's title says what one bar covers, which follows the batch's span.
  const rateTitle = h("h2", { id: "rate-title" }, "Calls finished over time");
  /** @param {HTMLElement} title its heading @param {HTMLElement} slot */
  const card = (title, slot) => h("section", { class: "card", "aria-labelledby": title.id }, title, slot);
  return {
    el: h(
      "div",
      { class: "charts" },
      card(h("h2", { id: "outcomes-title" }, "Outcomes"), outcomeSlot),
      card(h("h2", { id: "dispositions-title" }, "Dispositions"), dispositionSlot),
      card(rateTitle, rateSlot),
    ),
    /**
     * @param {StatusBody} status
     * @param {LedgerCall[]} calls what the page holds of each call, for the rate chart
     * @param {number | null} sampleOf the batch's total when `calls` is only some of its calls, else null
     */
    show(status, calls, sampleOf) {
      outcomeSlot.replaceChildren(outcomeChart(status.outcomes ?? {}));
      dispositionSlot.replaceChildren(dispositionChart(status.dispositions ?? {}));
      const note = sampleOf === null ? null : h("p", { class: "hint" }, `Counted over ${fmtNumber(calls.length)} of ${fmtNumber(sampleOf)} calls.`);
      const { chart, per } = rateChart(calls);
      rateTitle.textContent = per ? `Calls finished per ${per}` : "Calls finished over time";
      rateSlot.replaceChildren(chart, ...(note ? [note] : []));
    },
  };
}
