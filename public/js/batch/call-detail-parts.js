// @ts-check
// The pieces of a call's detail, each built from what the API said and put on the
// page as text (an agent's summary or transcript is never read as markup).

import { dataTable, fmtDuration, fmtTime, h } from "../ui.js";
import { dialText, outcomeText } from "./call-text.js";

/** @typedef {import("../types.js").AttemptRecord} AttemptRecord */
/** @typedef {AttemptRecord & { to?: string | null }} Dial an attempt with the number it called (absent in a reply from before) */
/** @typedef {import("../types.js").CallResult} CallResult */
/** @typedef {import("../types.js").Transcript} Transcript */

/**
 * A titled part of the detail.
 * @param {string} title
 * @param {...(Node | string | null)} children
 */
export const part = (title, ...children) => h("section", { class: "detail-part" }, h("h3", {}, title), ...children);

/**
 * A table filled once, named by its caption for assistive tech (the part's heading says it on screen).
 * @param {string} caption
 * @param {string[]} headers
 * @param {(Node | string | null)[][]} rows
 * @param {string} [empty]
 */
function table(caption, headers, rows, empty) {
  const t = dataTable(caption, headers, empty, { hideCaption: true });
  t.setRows(rows);
  return t.el;
}

/**
 * A value of a data field as text: null as "—", the rest as written.
 * @param {string | number | boolean | null} v
 */
const valueText = (v) => (v === null ? "—" : String(v));

/**
 * Label / value pairs, those with no value left out.
 * @param {[string, string | null | undefined][]} pairs
 */
function facts(pairs) {
  const shown = pairs.filter(([, v]) => v);
  return shown.length
    ? h(
        "dl",
        { class: "facts" },
        shown.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v ?? ""))),
      )
    : null;
}

/**
 * The row's columns, as the file had them.
 * @param {Record<string, string>} metadata
 */
export const variablesPart = (metadata) =>
  part("Variables", table("Variables", ["Column", "Value"], Object.entries(metadata), "The row has no columns besides the number."));

/**
 * Each dial: when, from which number to which, how it ended, how long, why it failed.
 * @param {Dial[]} attempts
 */
export const attemptsPart = (attempts) =>
  part(
    "Attempts",
    table(
      "Attempts",
      ["Attempt", "Started", "From → To", "Outcome", "Duration", "Error"],
      attempts.map((a) => [
        String(a.attempt),
        fmtTime(a.startTime),
        dialText(a),
        a.outcome ? outcomeText(a.outcome) : a.endTime ? "—" : "under way",
        a.duration === null ? "—" : fmtDuration(a.duration),
        a.error ?? "—",
      ]),
      "Not dialled yet.",
    ),
  );

/**
 * The agent's result: disposition and the rest, the summary, the data fields.
 * @param {CallResult | null} result
 */
export function resultPart(result) {
  if (!result) return part("Result", h("p", { class: "hint" }, "The agent has not reported a result for this call."));
  const data = Object.entries(result.data ?? {});
  return part(
    `Result (attempt ${result.attempt})`,
    facts([
      ["Disposition", result.disposition],
      ["Sentiment", result.sentiment],
      ["Callback requested for", result.callbackAt && fmtTime(result.callbackAt)],
      ["Opted out", result.optOut ? "Yes: the number is on the do-not-call list" : null],
      ["Reported", fmtTime(result.receivedAt)],
    ]),
    h("h4", {}, "Summary"),
    h("p", { class: "summary" }, result.summary || "No summary."),
    h("h4", {}, "Data"),
    data.length
      ? table(
          "Data",
          ["Field", "Value"],
          data.map(([k, v]) => [k, valueText(v)]),
        )
      : h("p", { class: "hint" }, "No data fields."),
  );
}

/**
 * The recording, playable here when its address is https (the page's CSP allows media from https: only).
 * @param {string} url
 */
export function recordingPart(url) {
  const playable = URL.canParse(url) && new URL(url).protocol === "https:";
  if (!playable) return part("Recording", h("p", { class: "hint" }, `Only https recordings play here; this one is at ${url}`));
  return part(
    "Recording",
    // preload="none": the recording's host hears of it only when someone presses play.
    h("audio", { controls: true, preload: "none", src: url, "aria-label": "Call recording" }),
    h("p", {}, h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "Open the recording")),
  );
}

/**
 * "0:42" for an offset in ms from the call's start, else the clock time of an ISO string or epoch ms.
 * @param {string | number} at
 */
function turnTime(at) {
  if (typeof at === "number" && at < 1e11) {
    const s = Math.max(0, Math.round(at / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toLocaleTimeString();
}

/**
 * The conversation, turn by turn.
 * @param {Transcript} transcript
 */
export function transcriptList(transcript) {
  if (!transcript.turns?.length) return h("p", { class: "hint" }, "The transcript is empty.");
  return h(
    "ol",
    { class: "transcript", "aria-label": "Transcript turns" },
    transcript.turns.map((t) =>
      h(
        "li",
        { class: t.role === "agent" ? "turn turn-agent" : "turn turn-user" },
        h("span", { class: "turn-role" }, t.role === "agent" ? "Agent" : "Person"),
        t.at === undefined ? null : h("span", { class: "turn-at" }, ` ${turnTime(t.at)}`),
        h("p", {}, t.text),
      ),
    ),
  );
}
