// @ts-check
// The batch page's two small charts, drawn from per-call data ({status, outcome, endTime}).

import { fmtNumber, h, svg } from "./ui.js";

/** @typedef {Pick<import("./types.js").Call, "status" | "outcome" | "endTime">} ChartCall */
/** @typedef {"answered" | "voicemail" | "no_answer" | "busy" | "failed" | "cancelled"} Bar */

/** @type {[Bar, string][]} */
const OUTCOMES = [
  ["answered", "Answered"],
  ["voicemail", "Voicemail"],
  ["no_answer", "No answer"],
  ["busy", "Busy"],
  ["failed", "Failed"],
  ["cancelled", "Cancelled"],
];

/**
 * Which bar a finished call belongs to; null while it may still be dialled again.
 * @param {ChartCall} c
 * @returns {Bar | null}
 */
function outcomeOf(c) {
  if (c.status === "cancelled") return "cancelled";
  if (c.status === "completed") return c.outcome === "voicemail" ? "voicemail" : "answered";
  if (c.status === "failed") return c.outcome === "no_answer" || c.outcome === "busy" ? c.outcome : "failed";
  return null;
}

/**
 * Horizontal bars with their labels and numbers as text (readable without the colours).
 * @param {ChartCall[]} calls
 */
export function outcomeChart(calls) {
  const counts = /** @type {Record<Bar, number>} */ (Object.fromEntries(OUTCOMES.map(([k]) => [k, 0])));
  for (const c of calls) {
    const k = outcomeOf(c);
    if (k) counts[k]++;
  }
  const max = Math.max(1, ...Object.values(counts));
  return h(
    "ul",
    { class: "bars", "aria-label": "Outcomes of finished calls" },
    OUTCOMES.map(([k, label]) => {
      const bar = h("span", { class: `bar bar-${k}` });
      bar.style.width = `${(100 * counts[k]) / max}%`;
      return h(
        "li",
        {},
        h("span", { class: "bar-label" }, label),
        h("span", { class: "bar-track" }, bar),
        h("span", { class: "bar-value" }, fmtNumber(counts[k])),
      );
    }),
  );
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
