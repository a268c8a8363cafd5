// @ts-check
// One call's detail in a modal dialog, opened from the calls table: the agent's
// result (summary, data, recording, transcript), each attempt (from which number to which),
// the recipient's numbers, why a held call waits, and the row's columns. Focus moves into
// the dialog and, when it closes, back to the row.

import { apiPathOf, request } from "../api.js";
import { h, showError } from "../ui.js";
import { attemptsPart, part, recordingPart, resultPart, transcriptList, variablesPart } from "./call-detail-parts.js";
import { outcomeText, personName, waitReasonSentence, waitText } from "./call-text.js";

/** @typedef {import("../types.js").Call} Call */
/** @typedef {import("../types.js").CallDetail} CallDetail */
/** @typedef {import("../types.js").Transcript} Transcript */
/** @typedef {import("./call-text.js").HeldCall} HeldCall */

/**
 * Why a held call waits, and the recipient's numbers when there are several: null when neither applies.
 * @param {HeldCall} call
 */
function waitingPart(call) {
  const numbers = call.phoneNumbers ?? [];
  const reason = call.status === "waiting" && call.waitReason ? h("p", { class: "hint wait-reason" }, waitReasonSentence(call.waitReason)) : null;
  const tried = numbers.length > 1 ? h("p", { class: "hint" }, `Numbers, tried in this order: ${numbers.join(", ")}`) : null;
  return reason || tried ? h("div", {}, reason, tried) : null;
}

/**
 * @param {string} base the batch's API path
 * @param {AbortSignal} signal ends reads when the page closes
 */
export function callDetail(base, signal) {
  /** Counts opens and closes: a read answering after its dialog closed (or reopened on another call) draws nothing. */
  let opened = 0;
  /** @type {() => void} */
  let returnFocus = () => {};

  const title = h("h2", { id: "call-detail-title" });
  const summary = h("p", { class: "hint" });
  const note = h("p", { class: "hint", role: "status" });
  const error = h("div", { class: "error", role: "alert" });
  const body = h("div");
  /** @type {HTMLDialogElement} */
  const dialog = h(
    "dialog",
    {
      class: "detail",
      "aria-labelledby": "call-detail-title",
      onclose: () => {
        opened++;
        // Taken out of the page, a recording that is playing stops.
        body.replaceChildren();
        returnFocus();
      },
    },
    h("div", { class: "detail-head" }, title, h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Close")),
    summary,
    note,
    error,
    body,
  );

  /**
   * Opens the dialog on `call` (as the table has it) and reads the rest.
   * @param {Call} call
   * @param {() => void} back puts focus back where the dialog was opened from
   */
  async function open(call, back) {
    const read = ++opened;
    returnFocus = back;
    const name = personName(call);
    title.textContent = name ? `${name}, ${call.phone_number}` : call.phone_number;
    summary.textContent = "";
    note.textContent = "Loading the call…";
    showError(error, null);
    body.replaceChildren();
    if (!dialog.open) dialog.showModal();
    try {
      /** @type {CallDetail} */
      const detail = await request(`${base}/calls/${encodeURIComponent(call.jobId)}`, { signal });
      if (read !== opened) return;
      const status = waitText(detail) ?? detail.status;
      summary.textContent = `${status} · ${outcomeText(detail.outcome)} · ${detail.attempts} ${detail.attempts === 1 ? "attempt" : "attempts"}`;
      const result = detail.result;
      const transcript = result?.transcriptUrl ? h("div", {}, h("p", { class: "hint" }, "Loading the transcript…")) : null;
      body.replaceChildren(
        ...[
          waitingPart(detail),
          resultPart(result),
          result?.recordingUrl ? recordingPart(result.recordingUrl) : null,
          transcript && part("Transcript", transcript),
          attemptsPart(detail.attemptHistory ?? []),
          variablesPart(detail.metadata ?? {}),
        ].filter((el) => el !== null),
      );
      note.textContent = "";
      if (transcript && result?.transcriptUrl) await showTranscript(result.transcriptUrl, transcript, read);
    } catch (err) {
      if (read !== opened || signal.aborted) return;
      note.textContent = "";
      showError(error, err);
    }
  }

  /**
   * Reads the transcript with the API headers (a plain link could not send them) into `slot`.
   * @param {string} url the result's transcriptUrl
   * @param {HTMLElement} slot
   * @param {number} read the open it belongs to
   */
  async function showTranscript(url, slot, read) {
    const path = apiPathOf(url);
    if (!path) {
      slot.replaceChildren(h("p", { class: "hint" }, `The transcript is not at an address of this API: ${url}`));
      return;
    }
    try {
      /** @type {Transcript} */
      const transcript = await request(path, { signal });
      if (read === opened) slot.replaceChildren(transcriptList(transcript));
    } catch (err) {
      if (read !== opened || signal.aborted) return;
      const shown = h("div", { class: "error", role: "alert" });
      showError(shown, err);
      slot.replaceChildren(shown);
    }
  }

  return { dialog, open };
}
