// @ts-check
// "Edit settings" on the batch page: the New batch form's options, filled with the batch's own,
// for a draft, queued or paused batch. Save sends only what changed (PATCH), so an untouched stop
// rule keeps its window; what the form does not show (a calling window's time zone and per-country
// hours, a callback config's retryOn) rides along unchanged with a field that did change.

import { request } from "../api.js";
import { localToUtc, utcToLocal } from "../format.js";
import { safetyFieldsets } from "../new-batch/safety-fieldsets.js";
import { smartFields } from "../new-batch/smart-fields.js";
import { windowFieldset } from "../new-batch/window-fieldset.js";
import { field, h, showError } from "../ui.js";

/** @typedef {import("../types.js").Agent} Agent */
/** @typedef {import("../types.js").Batch} Batch */
/** @typedef {import("../types.js").BatchStatusName} BatchStatusName */

/** The states the API edits a batch in. */
const EDITABLE = ["draft", "queued", "paused"];

/** How a message about fields to fix starts: it follows the fields as they change, and goes once they are fixed. */
const FIX = "Fix the ";

/** Each PATCH field as the note after a save names it. */
const LABELS = /** @type {const} */ ({
  name: "name",
  agentId: "agent",
  scheduledAt: "start time",
  callingWindow: "calling window",
  maxConcurrentCalls: "max concurrent calls",
  smartCallbackConfig: "smart callbacks",
  stopRules: "stop rules",
  preDial: "pre-dial check",
  maxMinutes: "budget",
});

/**
 * @typedef {object} EditOptions
 * @property {string} base the batch's API path
 * @property {AbortSignal} signal
 * @property {(batch: Batch) => void} saved the batch as the PATCH answered it
 */

/** @param {EditOptions} options */
export function editSection({ base, signal, saved }) {
  /** @type {Batch | null} */
  let batch = null;
  /** @type {BatchStatusName | null} */
  let status = null;
  /** @type {Record<string, unknown>} what the form said when it was filled: only fields that differ from it are sent */
  let baseline = {};
  let busy = false;
  /** @type {Promise<Agent[]> | null} */
  let agentsRead = null;

  const toggle = h("button", { type: "button", class: "secondary", hidden: true, "aria-expanded": "false", "aria-controls": "edit-form" }, "Edit settings");
  const name = h("input", { name: "name", id: "e-name", maxlength: 200, autocomplete: "off" });
  const agent = h("select", { name: "agentId", id: "e-agent" });
  const scheduled = h("input", { type: "datetime-local", name: "scheduledAt", id: "e-scheduled" });
  const scheduledField = field("Start time", scheduled, "Your local time: a queued batch starts then, a draft once you press Start.");
  const maxConcurrent = h("input", { type: "number", name: "maxConcurrent", id: "e-max-concurrent", min: 1 });
  const parts = { window: windowFieldset(), safety: safetyFieldsets(), smart: smartFields("e") };
  const error = h("div", { class: "error", role: "alert" });
  const note = h("p", { role: "status", class: "hint" });
  const title = h("h2", { id: "edit-title", tabindex: -1 }, "Edit settings");
  const saveButton = h("button", { type: "submit" }, "Save changes");
  const form = h(
    "form",
    { id: "edit-form", class: "card", hidden: true, novalidate: true, "aria-labelledby": "edit-title" },
    title,
    h("p", { class: "hint" }, "The next calls use the new settings; calls already dialled keep theirs."),
    field("Name", name),
    field("Agent", agent),
    scheduledField,
    parts.smart.els,
    parts.window.el,
    field("Max concurrent calls", maxConcurrent, "Never above the workspace's limit; leave empty to keep the batch's."),
    parts.safety.els,
    error,
    h("div", { class: "actions" }, saveButton, h("button", { type: "button", class: "secondary", onclick: () => close(true) }, "Close")),
  );

  /** The form's values as the PATCH fields they would be. */
  function values() {
    const s = parts.safety.values();
    const smart = parts.smart.read();
    const had = batch?.smartCallbackConfig ?? null;
    return {
      name: name.value.trim() || null,
      agentId: agent.value,
      scheduledAt: localToUtc(scheduled.value) || null,
      callingWindow: windowWithRest(parts.window.read().window),
      maxConcurrentCalls: maxConcurrent.value ? Number(maxConcurrent.value) : null,
      // The config's other fields (retryOn, maxRequestedCallbacks) ride along unchanged.
      smartCallbackConfig: smart ? { ...had, ...smart } : had ? { ...had, enabled: false } : null,
      stopRules: s.stopRules,
      preDial: s.preDial,
      maxMinutes: s.maxMinutes,
    };
  }

  /**
   * The window the fields say, with the batch's time zone and per-country hours, which the form does not show.
   * @param {import("../calling-window.js").CallingWindow | null} w
   */
  function windowWithRest(w) {
    const had = batch?.callingWindow;
    if (!w || !had) return w;
    return { ...w, ...(had.timezone ? { timezone: had.timezone } : {}), ...(had.overrides ? { overrides: had.overrides } : {}) };
  }

  /** The PATCH body: each field that differs from what the form was filled with. */
  function changes() {
    const now = values();
    /** @type {Record<string, unknown>} */
    const body = {};
    for (const [key, value] of Object.entries(now)) {
      if (JSON.stringify(value) === JSON.stringify(baseline[key])) continue;
      if (key === "scheduledAt") {
        if (value) body.scheduledAt = value; // the API cannot clear a start time: an emptied field keeps it
      } else if (key === "preDial") {
        const was = /** @type {{ preDialUrl?: string }} */ (baseline.preDial);
        const check = now.preDial;
        if (!check.preDialUrl) body.preDialUrl = null;
        else if (check.preDialUrl === was.preDialUrl) body.preDialOnError = check.preDialOnError;
        else Object.assign(body, check);
      } else body[key] = value;
    }
    return body;
  }

  /** What must be fixed before a save, as the New batch form says it (each part's errors show under its fields). */
  function problems() {
    const utc = localToUtc(scheduled.value);
    const s = parts.safety.show();
    return /** @type {[string, string[]][]} */ ([
      ["calling window", parts.window.show(utc ? Date.parse(utc) : null)],
      ["stop rules", s.stopRules],
      ["pre-dial check", s.preDial],
      ["budget", s.budget],
    ]).filter(([, wrong]) => wrong.length > 0);
  }

  /** The workspace's agents as options, with the batch's own even if it is gone from the list. */
  async function fillAgents() {
    agentsRead ??= request("/agents", { signal }).then((r) => /** @type {{ agents: Agent[] }} */ (r).agents);
    const agents = await agentsRead;
    const id = batch?.agentId ?? "";
    const options = agents.map((a) => h("option", { value: a.agentId }, `${a.name} (${a.provider})`));
    if (id && !agents.some((a) => a.agentId === id)) options.unshift(h("option", { value: id }, id));
    agent.replaceChildren(...options);
    agent.value = id;
  }

  async function open() {
    if (!batch) return;
    showError(error, null);
    note.textContent = "";
    try {
      await fillAgents();
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    }
    name.value = batch.name ?? "";
    scheduled.value = utcToLocal(batch.scheduledAt);
    maxConcurrent.value = batch.maxConcurrentCalls ? String(batch.maxConcurrentCalls) : "";
    parts.smart.fill(/** @type {import("../new-batch/smart-fields.js").SmartConfig | null} */ (batch.smartCallbackConfig));
    parts.window.fill(batch.callingWindow);
    parts.safety.fill({ stopRules: batch.stopRules, preDial: batch.preDial, maxMinutes: batch.maxMinutes });
    baseline = values();
    problems();
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    title.focus();
  }

  /** @param {boolean} refocus hand focus back to the toggle (the form had it) */
  function close(refocus) {
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    showError(error, null);
    syncToggle();
    if (refocus && !toggle.hidden) toggle.focus();
  }

  /** Offered while the batch can be edited; an open form stays open (a save then says why it cannot). */
  function syncToggle() {
    toggle.hidden = !(status && EDITABLE.includes(status)) && form.hidden;
    scheduledField.hidden = status === "paused";
  }

  toggle.addEventListener("click", () => (form.hidden ? open() : close(false)));
  /** Each field's error as it changes; since Save said what to fix, the first thing still wrong (or nothing). */
  const sync = () => {
    const [wrong] = problems();
    const now = wrong ? `${FIX}${wrong[0]} first: ${wrong[1].join(" ")}` : "";
    if (error.textContent?.startsWith(FIX) && error.textContent !== now) showError(error, now ? new Error(now) : null);
  };
  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    const [wrong] = problems();
    if (wrong) return showError(error, new Error(`${FIX}${wrong[0]} first: ${wrong[1].join(" ")}`));
    const body = changes();
    const keys = Object.keys(body).map((k) => (k.startsWith("preDial") ? "preDial" : k));
    if (!keys.length) return showError(error, new Error("Nothing to save: no setting was changed."));
    busy = true;
    showError(error, null);
    try {
      const updated = /** @type {Batch} */ (await request(base, { method: "PATCH", json: body, signal }));
      batch = updated;
      saved(updated);
      close(true);
      note.textContent = `Saved: ${[...new Set(keys)].map((k) => LABELS[/** @type {keyof typeof LABELS} */ (k)] ?? k).join(", ")}.`;
    } catch (err) {
      if (!signal.aborted) showError(error, err);
    } finally {
      busy = false;
    }
  });

  return {
    toggle,
    els: [note, form],
    /** @param {Batch} shown the batch as GET (or a save) shows it */
    setBatch(shown) {
      batch = shown;
    },
    /** @param {BatchStatusName} now */
    show(now) {
      status = now;
      syncToggle();
    },
  };
}
