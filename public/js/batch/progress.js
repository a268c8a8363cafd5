// @ts-check
// The Progress card: the bar, a counter per call status, average duration, current
// rate and time to finish (average rate and finish time once it has finished), and
// how the page is hearing about changes.

import { h, progressBar } from "../ui.js";

/** @typedef {import("../types.js").StatusBody} StatusBody */
/** @typedef {import("./live.js").LiveMode} LiveMode */

/** @type {("waiting" | "active" | "completed" | "failed" | "cancelled")[]} */
const COUNTERS = ["waiting", "active", "completed", "failed", "cancelled"];

/** @type {Record<LiveMode, string>} */
const LIVE_TEXT = {
  stream: "Live: updates arrive as they happen.",
  polling: "Live: checking every 2 seconds.",
  connecting: "Connecting…",
  done: "This batch has finished.",
};

/** @typedef {import("./estimates.js").RateAndFinish & { liveMode: LiveMode }} Figures what the page works out (rate, time to finish) and how it hears of changes */

export function progressSection() {
  const barSlot = h("div", { class: "bar-slot" });
  const counters = COUNTERS.map((key) => ({ key, dd: h("dd", { "data-testid": `count-${key}` }, "0") }));
  const avgEl = h("dd", {}, "—");
  const rateLabelEl = h("dt", {}, "Current rate");
  const rateEl = h("dd", { "data-testid": "rate" }, "—");
  const finishLabelEl = h("dt", {}, "Estimated time to finish");
  const finishEl = h("dd", { "data-testid": "finish" }, "—");
  const liveEl = h("p", { class: "hint" });
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "progress-title" },
    h("h2", { id: "progress-title" }, "Progress"),
    barSlot,
    h(
      "dl",
      { class: "stats" },
      counters.map(({ key, dd }) => h("div", { class: `stat stat-${key}` }, h("dt", {}, key.charAt(0).toUpperCase() + key.slice(1)), dd)),
    ),
    h(
      "dl",
      { class: "stats" },
      h("div", { class: "stat" }, h("dt", {}, "Average duration"), avgEl),
      h("div", { class: "stat" }, rateLabelEl, rateEl),
      h("div", { class: "stat" }, finishLabelEl, finishEl),
    ),
    liveEl,
  );

  return {
    el,
    /**
     * @param {StatusBody} status
     * @param {Figures} figures
     */
    show(status, { rateLabel, rate, finishLabel, finish, liveMode }) {
      barSlot.replaceChildren(progressBar(status, "Calls finished"));
      for (const { key, dd } of counters) dd.textContent = String(status[key] ?? 0);
      avgEl.textContent = status.averageCallDuration ? `${status.averageCallDuration.toFixed(1)} s` : "—";
      rateLabelEl.textContent = rateLabel;
      rateEl.textContent = rate ? `${(rate * 60).toFixed(1)} calls/min` : "—";
      finishLabelEl.textContent = finishLabel;
      finishEl.textContent = finish;
      liveEl.textContent = LIVE_TEXT[liveMode];
    },
  };
}
