// @ts-check
// The top of the batch page: its name as the heading, its status, the options it runs with,
// and while it is paused a banner saying why and what Resume will do.

import { basisText, billedText, estimateText } from "../budget-text.js";
import { fmtTime, h } from "../ui.js";
import { pausedText, preDialText, statusLabel, stopRulesText } from "./safety-text.js";
import { batchTitle, titleHidesId } from "./title.js";

/** @typedef {import("../types.js").Batch} Batch */
/** @typedef {import("../types.js").StatusBody} StatusBody */

/** @param {string} batchId */
export function batchHeader(batchId) {
  // Shown once the batch's name is known, so the heading never changes under a reader.
  const h1 = h("h1", { tabindex: -1, hidden: true }, batchId);
  const statusEl = h("p", { "data-testid": "batch-status", class: "status-line" }, "Status: loading…");
  const meta = h("p", { class: "hint" });
  // Minutes billed against the budget, and a draft's estimate of what it will use.
  const minutes = h("p", { "data-testid": "minutes", class: "hint" });
  const estimate = h("div", { "data-testid": "estimate", class: "preview", hidden: true });
  // A live region that stays on the page, so the reason is read out when the batch pauses.
  const bannerText = h("p");
  const banner = h("div", { role: "status", "data-testid": "pause-banner" }, bannerText);
  /** @type {Batch | null} */
  let batch = null;
  return {
    els: [h1, statusEl, banner, meta, minutes, estimate],
    /**
     * The batch's name as the heading and the page title, its options below. Focus moves to
     * the heading if it was nowhere in particular (the page opened before the name was known).
     * @param {Batch} shown
     * @param {HTMLElement} root
     */
    showBatch(shown, root) {
      batch = shown;
      h1.textContent = batchTitle(batch);
      h1.hidden = false;
      if (document.activeElement === document.body || document.activeElement === root) h1.focus();
      document.title = `${h1.textContent} · Batch Calls`;
      meta.textContent = optionsLine(shown);
      const e = shown.status === "draft" ? shown.estimate : null;
      estimate.replaceChildren(...(e ? [h("p", {}, estimateText(e)), h("p", { class: "hint" }, basisText(e))] : []));
      estimate.hidden = !e;
      minutes.textContent = billedText(shown.billedMinutes ?? shown.progress.billedMinutes, shown.maxMinutes) ?? "";
    },
    /** The heading as it is (the batch's id), when the batch could not be read. */
    showId() {
      h1.hidden = false;
    },
    /** @param {StatusBody} status */
    showStatus(status) {
      statusEl.textContent = `Status: ${statusLabel(status.status)}`;
      statusEl.className = `status-line status-${status.status}`;
      const paused = pausedText(status.status, status.pausedReason, batch?.stopRules);
      if (bannerText.textContent !== (paused ?? "")) bannerText.textContent = paused ?? "";
      banner.className = paused ? "banner" : "";
      // The estimate is a draft's; once started, the minutes billed say what it costs.
      if (status.status !== "draft") estimate.hidden = true;
      // The budget is a setting: the batch's (GET or a save), as the stream's status bodies leave maxMinutes null.
      const billed = billedText(status.billedMinutes ?? batch?.billedMinutes, batch?.maxMinutes);
      if (billed !== null && minutes.textContent !== billed) minutes.textContent = billed;
    },
  };
}

/**
 * "calls only 09:00–17:00 Mon–Fri, not on 2 dates, other hours in GB": the window as the batch keeps it.
 * @param {NonNullable<Batch["callingWindow"]>} w
 */
function windowText(w) {
  const days = w.days && w.days.length < 7 ? ` ${w.days.map((d) => d[0]?.toUpperCase() + d.slice(1)).join(" ")}` : "";
  const blackout = w.blackoutDates?.length ? `, not on ${w.blackoutDates.length === 1 ? w.blackoutDates[0] : `${w.blackoutDates.length} dates`}` : "";
  const countries = Object.keys(w.overrides ?? {});
  const other = countries.length ? `, other hours in ${countries.join(" ")}` : "";
  return `calls only ${w.start}–${w.end}${days}${blackout}${other}`;
}

/**
 * "ID batch_… · file people.csv · Agent … · created … · scheduled for … · up to 3 attempts per number · calls only 09:00–17:00".
 * @param {Batch} batch
 */
function optionsLine(batch) {
  // The heading has the batch's name or its file's: the id, which operators copy, is said here.
  const opts = titleHidesId(batch) ? [`ID ${batch.id}`] : [];
  if (batch.name && batch.fileName) opts.push(`file ${batch.fileName}`);
  opts.push(`Agent ${batch.agentId}`, `created ${fmtTime(batch.createdAt)}`);
  if (batch.scheduledAt) opts.push(`scheduled for ${fmtTime(batch.scheduledAt)}`);
  if (batch.smartCallbackConfig?.enabled) opts.push(`up to ${batch.smartCallbackConfig.maxAttempts} attempts per number`);
  if (batch.callingWindow) opts.push(windowText(batch.callingWindow));
  if (batch.stopRules) opts.push(stopRulesText(batch.stopRules));
  if (batch.preDial) opts.push(preDialText(batch.preDial));
  return opts.join(" · ");
}
