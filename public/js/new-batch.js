// @ts-check
// The New batch form: a CSV file and its options, a dry run first ("Check file"), then Start
// (or Save draft: stored and counted, nothing dialled until the batch page's Start).

import { ApiError, newIdempotencyKey, request, session } from "./api.js";
import { safetyFieldsets } from "./new-batch/safety-fieldsets.js";
import { smartFields } from "./new-batch/smart-fields.js";
import { verdict } from "./new-batch/verdict.js";
import { windowFieldset } from "./new-batch/window-fieldset.js";
import { localToUtc } from "./format.js";
import { agentToPreselect, lastAgent } from "./prefs.js";
import { field, h, showError } from "./ui.js";

/** How a message about fields to fix starts: it follows the fields as they change, and goes once they are fixed. */
const FIX = "Fix the ";
/** @param {[string, string[]]} problem a part of the form and what is wrong in it */
const fixText = ([part, wrong]) => `${FIX}${part} first: ${wrong.join(" ")}`;
/** @typedef {import("./types.js").Agent} Agent */
/** @typedef {import("./types.js").StartBatchResponse} StartBatchResponse */
/** @typedef {{ window: ReturnType<typeof windowFieldset>, safety: ReturnType<typeof safetyFieldsets>, smart: ReturnType<typeof smartFields> }} Parts the form's fieldsets with their own modules */

/**
 * The New batch form's controls, by name.
 * @typedef {HTMLFormControlsCollection & {
 *   file: HTMLInputElement, agentId: HTMLSelectElement, name: HTMLInputElement, scheduledAt: HTMLInputElement,
 *   maxConcurrent: HTMLInputElement, skipInvalid: HTMLInputElement, draft: HTMLInputElement
 * }} NewBatchControls
 */

/**
 * The form's controls by name.
 * @param {HTMLFormElement} form
 */
const controls = (form) => /** @type {NewBatchControls} */ (form.elements);

/**
 * The form's fields for the upload, as the API wants them (only the ones set).
 * @param {HTMLFormElement} form
 * @param {Parts} parts
 */
function formFields(form, parts) {
  const f = controls(form);
  /** @type {Record<string, string>} */
  const out = { agentId: f.agentId.value };
  if (f.name.value.trim()) out.name = f.name.value.trim();
  const at = localToUtc(f.scheduledAt.value);
  if (at) out.scheduledAt = at;
  const smart = parts.smart.read();
  if (smart) out.smartCallbackConfig = JSON.stringify(smart);
  const { window } = parts.window.read();
  if (window) out.callingWindow = JSON.stringify(window);
  if (f.maxConcurrent.value) out.maxConcurrentCalls = f.maxConcurrent.value;
  Object.assign(out, parts.safety.fields());
  if (f.skipInvalid.checked) out.onInvalidRows = "skip";
  if (f.draft.checked) out.start = "false";
  return out;
}

/**
 * What "the same file and fields" means for enabling Start after a check.
 * @param {HTMLFormElement} form
 * @param {Parts} parts
 */
function signature(form, parts) {
  const file = controls(form).file.files?.[0];
  return JSON.stringify([file?.name, file?.size, file?.lastModified, formFields(form, parts)]);
}

/**
 * The upload's body: the fields, `extra` ones (dryRun), the file.
 * @param {HTMLFormElement} form
 * @param {Parts} parts
 * @param {Record<string, string>} [extra]
 */
function formData(form, parts, extra = {}) {
  const data = new FormData();
  for (const [k, v] of Object.entries({ ...formFields(form, parts), ...extra })) data.append(k, v);
  data.append("file", /** @type {File} */ (controls(form).file.files?.[0]));
  return data;
}

/** @param {HTMLElement} root */
export function newBatchView(root) {
  /** @type {{ signature: string, idempotencyKey: string } | null} after a successful dry run */
  let checked = null;
  const error = h("div", { class: "error", role: "alert" });
  const checkResult = h("div");
  const verdictTitle = h("h2", { id: "file-check-title", tabindex: -1 }, "File check");
  const verdictRegion = h("section", { class: "card", "aria-labelledby": "file-check-title", hidden: true }, verdictTitle, checkResult);

  const fileInput = h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true });
  const dropZone = h(
    "div",
    { class: "drop" },
    field("CSV file", fileInput, "Choose a file, or drop one here. The first row is the header; phone_number is required."),
  );
  const agentSelect = h("select", { name: "agentId", required: true }, h("option", { value: "" }, "Loading agents…"));
  const utcHint = h("span");
  const startInput = h("input", { type: "datetime-local", name: "scheduledAt" });
  /** @type {Parts} */
  const parts = { window: windowFieldset(), safety: safetyFieldsets(), smart: smartFields() };
  const draft = h("input", { type: "checkbox", name: "draft", id: "f-draft" });
  const startButton = h("button", { type: "button", disabled: true }, "Start batch");
  const checkButton = h("button", { type: "submit", class: "secondary" }, "Check file");

  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "new-title" },
    dropZone,
    field("Agent", agentSelect),
    field("Name", h("input", { name: "name", maxlength: 200, autocomplete: "off" }), "Optional; shown in the batches list."),
    field("Start time", startInput, h("span", {}, "Your local time; empty = start now. ", utcHint)),
    parts.smart.els,
    parts.window.el,
    field("Max concurrent calls", h("input", { type: "number", name: "maxConcurrent", min: 1 }), "Optional; never above the workspace's limit."),
    parts.safety.els,
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", name: "skipInvalid", id: "f-skip" }),
      h("label", { for: "f-skip" }, "Skip invalid rows (otherwise any invalid row stops the batch)"),
    ),
    h("div", { class: "check" }, draft, h("label", { for: "f-draft" }, "Save as draft (start later)")),
    error,
    h("div", { class: "actions" }, checkButton, startButton),
  );
  root.append(h("h1", { tabindex: -1, id: "new-title" }, "New batch"), form, verdictRegion);

  /**
   * What must be fixed before a check, by part, each part's errors shown under its fields; the
   * calling window's preview (when a recipient would first be called) follows the start time.
   * @returns {[string, string[]][]}
   */
  const problems = () => {
    const utc = localToUtc(startInput.value);
    const safety = parts.safety.show();
    return /** @type {[string, string[]][]} */ ([
      ["calling window", parts.window.show(utc ? Date.parse(utc) : null)],
      ["stop rules", safety.stopRules],
      ["pre-dial check", safety.preDial],
      ["budget", safety.budget],
    ]).filter(([, wrong]) => wrong.length > 0);
  };
  // Start is only offered for exactly what was checked; any change asks for a new check.
  const sync = () => {
    const wrong = problems();
    startButton.disabled = wrong.length > 0 || !checked || checked.signature !== signature(form, parts);
    startButton.textContent = draft.checked ? "Save draft" : "Start batch";
    const utc = localToUtc(startInput.value);
    utcHint.textContent = utc ? `Sent as ${utc} (UTC).` : "";
    // Since Check said what to fix: the first thing still wrong, or nothing (set only when it changes: it is read out).
    const now = wrong[0] ? fixText(wrong[0]) : "";
    if (error.textContent?.startsWith(FIX) && error.textContent !== now) showError(error, now ? new Error(now) : null);
  };
  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  sync();

  // Drag-and-drop: the dropped file becomes the input's file, as if picked.
  dropZone.addEventListener("dragover", (e) => {
    e.preventDefault();
    dropZone.classList.add("over");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropZone.classList.remove("over");
    if (!e.dataTransfer?.files.length) return;
    fileInput.files = e.dataTransfer.files;
    fileInput.dispatchEvent(new Event("change", { bubbles: true }));
  });

  const workspaceId = session.get()?.workspaceId;
  /** @type {Promise<{ agents: Agent[] }>} */
  const agentsRead = request("/agents");
  agentsRead
    .then(({ agents }) => {
      agentSelect.replaceChildren(
        ...(agents.length
          ? agents.map((a) => h("option", { value: a.agentId }, `${a.name} (${a.provider})`))
          : [h("option", { value: "" }, "No agents yet: add one under Agents")]),
      );
      // Not the newest agent by default: the one this workspace's last batch used.
      agentSelect.value = agentToPreselect(agents, workspaceId ? lastAgent.get(workspaceId) : null);
      sync();
    })
    .catch((err) => showError(error, err));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    checked = null;
    sync();
    if (!fileInput.files?.[0]) return showError(error, new Error("Choose a CSV file first."));
    if (!agentSelect.value) return showError(error, new Error("Choose an agent first (add one under Agents if the list is empty)."));
    const [wrong] = problems();
    if (wrong) return showError(error, new Error(fixText(wrong)));
    const sig = signature(form, parts);
    checkButton.disabled = true;
    showError(error, null);
    try {
      /** @type {StartBatchResponse} */
      const result = await request("/batch-calls", { method: "POST", body: formData(form, parts, { dryRun: "true" }) });
      checkResult.replaceChildren(...verdict(result, true));
      // One key per successful check: a double click on Start, or a retry after a
      // lost response, is the same request, so the server creates one batch.
      checked = { signature: sig, idempotencyKey: newIdempotencyKey() };
      // Announce the verdict by moving focus to it (an error is announced by its role="alert").
      queueMicrotask(() => verdictTitle.focus());
    } catch (err) {
      showError(error, err);
      checkResult.replaceChildren(...(err instanceof ApiError && err.status === 400 ? verdict(err.body ?? {}, false) : []));
    } finally {
      verdictRegion.hidden = !checkResult.childElementCount;
      checkButton.disabled = false;
      sync();
    }
  });

  startButton.addEventListener("click", async () => {
    if (!checked || checked.signature !== signature(form, parts) || problems().length) return;
    startButton.disabled = true;
    showError(error, null);
    try {
      /** @type {StartBatchResponse} */
      const result = await request("/batch-calls", { method: "POST", body: formData(form, parts), headers: { "idempotency-key": checked.idempotencyKey } });
      if (workspaceId) lastAgent.set(workspaceId, agentSelect.value);
      location.hash = `#/batches/${result.batchId}`;
    } catch (err) {
      showError(error, err);
      sync();
    }
  });
}
