// @ts-check
// The batch page's small charts: outcomes and dispositions from the server's
// counters (exact for any batch size), calls finished per minute from per-call end times.

import { fmtNumber, h, svg } from "./ui.js";

/** @typedef {Pick<import("./types.js").Call, "status" | "endTime">} ChartCall */
/** @typedef {import("./types.js").OutcomeName} OutcomeName */

/** @type {[OutcomeName, string][]} */
const OUTCOMES = [
  ["answered", "Answered"],
  ["voicemail", "Voicemail"],
  ["no_answer", "No answer"],
  ["busy", "Busy"],
  ["failed", "Failed"],
  ["canceled", "Cancelled"],
  ["callback_requested", "Callback requested"],
];

/** Dispositions past this many (the most frequent first) share one "other" line. */
const MAX_DISPOSITION_BARS = 12;

/**
 * Horizontal bars with their labels and numbers as text (readable without the colours).
 * @param {string} label what the list shows, for assistive tech
 * @param {{ label: string, count: number, cls: string }[]} items
 * @param {string} [listClass]
 */
function barList(label, items, listClass = "bars") {
  const max = Math.max(1, ...items.map((i) => i.count));
  return h(
    "ul",
    { class: listClass, "aria-label": label },
    items.map((i) => {
      const bar = h("span", { class: `bar ${i.cls}` });
      // CSSOM, not a style attribute: the page's CSP forbids inline styles.
      bar.style.width = `${(100 * i.count) / max}%`;
      return h(
        "li",
        {},
        h("span", { class: "bar-label" }, i.label),
        h("span", { class: "bar-track" }, bar),
        h("span", { class: "bar-value" }, fmtNumber(i.count)),
      );
    }),
  );
}

/**
 * Calls by their current outcome (a waiting call counts under the outcome of its last attempt).
 * @param {Partial<Record<OutcomeName, number>>} outcomes the /status counters
 */
export function outcomeChart(outcomes) {
  return barList(
    "Calls by outcome",
    OUTCOMES.map(([k, label]) => ({ label, count: outcomes[k] ?? 0, cls: `bar-${k}` })),
  );
}

/**
 * Calls by the disposition their agent reported, most frequent first; labels are the agent's, shown as given.
 * @param {Record<string, number>} dispositions the /status counters
 */
export function dispositionChart(dispositions) {
  const entries = Object.entries(dispositions)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (!entries.length) return h("p", { class: "hint" }, "No agent has reported a disposition yet.");
  const shown = entries.slice(0, MAX_DISPOSITION_BARS).map(([label, count]) => ({ label, count, cls: "bar-disposition" }));
  const rest = entries.slice(MAX_DISPOSITION_BARS);
  const more = rest.length ? `And ${rest.length} more labels with ${fmtNumber(rest.reduce((a, [, n]) => a + n, 0))} calls.` : null;
  return h("div", {}, barList("Calls by disposition", shown, "bars wide-labels"), more && h("p", { class: "hint" }, more));
}

const MAX_MINUTES = 60;

/**
 * Calls that ended in each minute (by their endTime), the last hour at most, as SVG bars.
 * @param {ChartCall[]} calls
 */
export function rateChart(calls) {
  /** @type {Map<number, number>} */
  const perMinute = new Map();
  for (const c of calls) {
    if (c.endTime && c.status !== "waiting" && c.status !== "active") {
      const m = Math.floor(c.endTime / 60_000);
      perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
    }
  }
  if (!perMinute.size) return h("p", { class: "hint" }, "No calls have finished yet.");
  const last = Math.max(...perMinute.keys());
  const first = Math.max(Math.min(...perMinute.keys()), last - MAX_MINUTES + 1);
  const minutes = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const values = minutes.map((m) => perMinute.get(m) ?? 0);
  const peak = Math.max(...values);
  const [W, H, PAD] = [320, 120, 18];
  const slot = Math.min(24, (W - 2 * PAD) / minutes.length); // a few minutes don't become a few fat slabs
  /** @param {number} m minutes since the epoch */
  const time = (m) => new Date(m * 60_000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const bars = values.map((v, i) =>
    svg(
      "rect",
      {
        x: PAD + i * slot + slot * 0.1,
        y: H - PAD - ((H - 2 * PAD) * v) / peak,
        width: Math.max(1, slot * 0.8),
        height: ((H - 2 * PAD) * v) / peak,
        class: "rate-bar",
      },
      svg("title", {}, `${time(first + i)}: ${v} calls`),
    ),
  );
  /**
   * @param {number} x
   * @param {number} y
   * @param {string} text
   */
  const label = (x, y, text, anchor = "start") => {
    const t = svg("text", { x, y, "text-anchor": anchor, class: "axis" });
    t.textContent = text;
    return t;
  };
  const total = values.reduce((a, b) => a + b, 0);
  return svg(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": `Calls finished per minute from ${time(first)} to ${time(last)}: peak ${peak}, latest ${values.at(-1)}, ${total} in all.`,
      class: "rate-chart",
    },
    svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis-line" }),
    bars,
    label(PAD, 12, `peak ${peak}/min`),
    label(PAD, H - 4, time(first)),
    label(W - PAD, H - 4, time(last), "end"),
  );
}
