// @ts-check
// The Outcomes and Calls finished per minute cards, drawn from the page's per-call data.

import { outcomeChart, rateChart } from "../charts.js";
import { fmtNumber, h } from "../ui.js";

/** @typedef {import("./ledger.js").LedgerCall} LedgerCall */

export function chartsSection() {
  const outcomeSlot = h("div");
  const rateSlot = h("div");
  return {
    el: h(
      "div",
      { class: "charts" },
      h("section", { class: "card", "aria-labelledby": "outcomes-title" }, h("h2", { id: "outcomes-title" }, "Outcomes"), outcomeSlot),
      h("section", { class: "card", "aria-labelledby": "rate-title" }, h("h2", { id: "rate-title" }, "Calls finished per minute"), rateSlot),
    ),
    /**
     * @param {LedgerCall[]} calls
     * @param {number | null} sampleOf the batch's total when `calls` is only some of its calls, else null
     */
    show(calls, sampleOf) {
      const note = sampleOf === null ? null : `Counted over ${fmtNumber(calls.length)} of ${fmtNumber(sampleOf)} calls.`;
      outcomeSlot.replaceChildren(outcomeChart(calls), ...(note ? [h("p", { class: "hint" }, note)] : []));
      rateSlot.replaceChildren(rateChart(calls), ...(note ? [h("p", { class: "hint" }, note)] : []));
    },
  };
}
