// @ts-check
// The Outcomes, Dispositions and Calls finished per minute cards. The first two
// read the server's counters in /status (exact for any size of batch); the rate
// chart reads per-call end times, which the page holds for a sample of the calls.

import { dispositionChart, outcomeChart, rateChart } from "../charts.js";
import { fmtNumber, h } from "../ui.js";

/** @typedef {import("./ledger.js").LedgerCall} LedgerCall */
/** @typedef {import("../types.js").StatusBody} StatusBody */

export function chartsSection() {
  const outcomeSlot = h("div");
  const dispositionSlot = h("div");
  const rateSlot = h("div");
  /** @param {string} id @param {string} title @param {HTMLElement} slot */
  const card = (id, title, slot) => h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), slot);
  return {
    el: h(
      "div",
      { class: "charts" },
      card("outcomes-title", "Outcomes", outcomeSlot),
      card("dispositions-title", "Dispositions", dispositionSlot),
      card("rate-title", "Calls finished per minute", rateSlot),
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
      rateSlot.replaceChildren(rateChart(calls), ...(note ? [note] : []));
    },
  };
}
