// @ts-check
// The batch's controls: Start (a draft), Pause, Resume, Cancel batch (after a confirmation dialog)
// and Retry failed, each shown only while the batch's state allows it, and the results.csv download.

import { request } from "../api.js";
import { h, saveBlob, showError } from "../ui.js";

/** @typedef {import("../types.js").BatchStatusName} BatchStatusName */
/** @typedef {import("../types.js").ControlResponse} ControlResponse */

/**
 * @typedef {object} ControlsOptions
 * @property {string} batchId
 * @property {string} base the batch's API path
 * @property {AbortSignal} signal ends requests when the page closes
 * @property {() => Promise<void>} afterAction runs after an action succeeded (its failure is shown like the action's)
 */

/** @param {ControlsOptions} options */
export function batchControls({ batchId, base, signal, afterAction }) {
  let busy = false;
  const actionError = h("div", { class: "error", role: "alert" });
  const actionNote = h("p", { role: "status", class: "hint" });

  /**
   * @param {string} label
   * @param {string} cls
   * @param {() => void} onclick
   */
  const btn = (label, cls, onclick) => h("button", { type: "button", class: cls, hidden: true, onclick }, label);
  /** @type {{ button: HTMLButtonElement, shownWhile: BatchStatusName[] }[]} */
  const actions = [
    { button: btn("Start", "", () => act("POST", "/start")), shownWhile: ["draft"] },
    { button: btn("Pause", "secondary", () => act("POST", "/pause")), shownWhile: ["queued", "processing"] },
    { button: btn("Resume", "", () => act("POST", "/resume")), shownWhile: ["paused"] },
    { button: btn("Cancel batch", "danger", () => confirmCancel()), shownWhile: ["draft", "queued", "processing", "paused"] },
    { button: btn("Retry failed", "secondary", () => act("POST", "/retry")), shownWhile: ["completed"] },
  ];
  const download = h("a", { href: `/v1/api${base}/results.csv`, class: "button secondary", onclick: downloadCsv }, "Download results.csv");

  /** @type {HTMLDialogElement} */
  const dialog = h(
    "dialog",
    { "aria-labelledby": "cancel-title", onclose: () => dialog.returnValue === "yes" && act("DELETE", "") },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "cancel-title" }, "Cancel this batch?"),
      h("p", {}, "Calls not yet dialled are cancelled at once; calls in progress finish. This can't be undone."),
      h(
        "div",
        { class: "actions" },
        h("button", { value: "yes", class: "danger" }, "Yes, cancel"),
        h("button", { value: "no", class: "secondary", autofocus: true }, "Keep running"),
      ),
    ),
  );

  function confirmCancel() {
    dialog.returnValue = "";
    dialog.showModal();
  }

  /**
   * @param {string} method
   * @param {string} path under the batch's path
   */
  async function act(method, path) {
    // A guard, not `disabled`: disabling the focused button would drop keyboard focus to <body>.
    if (busy) return;
    busy = true;
    showError(actionError, null);
    actionNote.textContent = "";
    try {
      /** @type {ControlResponse} */
      const res = await request(base + path, { method, signal });
      actionNote.textContent = res.message;
      await afterAction();
    } catch (err) {
      if (!signal.aborted) showError(actionError, err);
    } finally {
      busy = false;
    }
  }

  /** @param {Event} e */
  async function downloadCsv(e) {
    e.preventDefault();
    showError(actionError, null);
    try {
      const res = await request(`${base}/results.csv`, { raw: true, signal });
      saveBlob(await res.blob(), `${batchId}-results.csv`);
    } catch (err) {
      if (!signal.aborted) showError(actionError, err);
    }
  }

  return {
    /** The buttons and the download link, in a row. */
    bar: h(
      "div",
      { class: "actions" },
      actions.map((a) => a.button),
      download,
    ),
    actionError,
    actionNote,
    dialog,
    /**
     * Offers the actions the batch's status allows. A control that hides while it has
     * focus hands focus to the first one still shown, else to the download link.
     * @param {BatchStatusName} status
     */
    show(status) {
      for (const { button, shownWhile } of actions) {
        const hide = !shownWhile.includes(status);
        if (hide && button === document.activeElement) queueMicrotask(() => (actions.find((a) => !a.button.hidden)?.button ?? download).focus());
        button.hidden = hide;
      }
    },
  };
}
