// @ts-check
// The batch page's small charts: outcomes and dispositions from the server's
// counters (exact for any batch size), calls finished per second, minute or hour from per-call end times.

import { bucketName, rateBuckets } from "./rate-buckets.js";
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

/** @type {Record<import("./rate-buckets.js").BucketUnit, Intl.DateTimeFormatOptions>} */
const TIME_FORMAT = {
  second: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
  minute: { hour: "2-digit", minute: "2-digit" },
  hour: { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" },
};

/**
 * Calls that ended in each second, minute or hour (by their endTime, the bucket chosen from their
 * span: rate-buckets.js), as SVG bars; `per` says what one bar covers, for the card's title.
 * @param {ChartCall[]} calls
 * @returns {{ chart: HTMLElement | SVGSVGElement, per: string | null }}
 */
export function rateChart(calls) {
  const ends = calls.filter((c) => c.endTime && c.status !== "waiting" && c.status !== "active").map((c) => Number(c.endTime));
  // Minutes and hours start on the person's clock (a +05:30 zone would otherwise see hours from :30).
  const buckets = rateBuckets(ends, ends.length ? -new Date(Math.max(...ends)).getTimezoneOffset() * 60_000 : 0);
  if (!buckets) return { chart: h("p", { class: "hint" }, "No calls have finished yet."), per: null };
  const { starts, counts: values } = buckets;
  const per = bucketName(buckets);
  const peak = Math.max(...values);
  const [W, H, PAD] = [320, 120, 18];
  const slot = Math.min(24, (W - 2 * PAD) / values.length); // a few bars don't become a few fat slabs
  /** @param {number | undefined} t epoch ms */
  const time = (t) => new Date(t ?? 0).toLocaleTimeString(undefined, TIME_FORMAT[buckets.unit]);
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
      svg("title", {}, `${time(starts[i])}: ${v} calls`),
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
  const [from, to] = [time(starts[0]), time(starts.at(-1))];
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": `Calls finished per ${per} from ${from} to ${to}: peak ${peak}, latest ${values.at(-1)}, ${total} in all.`,
      class: "rate-chart",
    },
    svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis-line" }),
    bars,
    label(PAD, 12, `peak ${peak} per ${per}`),
    label(PAD, H - 4, from),
    label(W - PAD, H - 4, to, "end"),
  );
  return { chart, per };
}
