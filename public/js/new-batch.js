// @ts-check
// The New batch form: a CSV file and its options, a dry run first ("Check file"), then Start.

import { ApiError, newIdempotencyKey, request, session } from "./api.js";
import { DAYS, PLACES, previewText, readWindow } from "./calling-window.js";
import { agentToPreselect, lastAgent } from "./prefs.js";
import { field, fmtNumber, h, showError, table } from "./ui.js";

const WINDOW_WRONG = "Fix the calling window first:";
const BLACKOUT_HINT = "Optional: the recipient's local dates with no calls (public holidays, say), as YYYY-MM-DD, separated by commas. ";
/** @typedef {import("./types.js").Agent} Agent */
/** @typedef {import("./types.js").RowError} RowError */
/** @typedef {import("./types.js").StartBatchResponse} StartBatchResponse */

/**
 * The New batch form's controls, by name.
 * @typedef {HTMLFormControlsCollection & {
 *   file: HTMLInputElement, agentId: HTMLSelectElement, name: HTMLInputElement, scheduledAt: HTMLInputElement,
 *   smart: HTMLInputElement, maxAttempts: HTMLInputElement, gapHours: HTMLInputElement,
 *   windowFrom: HTMLInputElement, windowTo: HTMLInputElement, windowBlackout: HTMLInputElement, previewPlace: HTMLSelectElement,
 *   maxConcurrent: HTMLInputElement, skipInvalid: HTMLInputElement
 * }} NewBatchControls
 */

/**
 * datetime-local value (the person's local time) → `YYYY-MM-DDTHH:MM:SSZ`, or "" when empty.
 * @param {string} value
 */
function localToUtc(value) {
  if (!value) return "";
  const d = new Date(value); // no zone in the string: read as local time
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The form's controls by name.
 * @param {HTMLFormElement} form
 */
const controls = (form) => /** @type {NewBatchControls} */ (form.elements);

/**
 * The calling window the form says (null: none, or a wrong one) and what is wrong with it, by field.
 * @param {HTMLFormElement} form
 */
function windowOf(form) {
  const f = controls(form);
  const days = Array.from(form.querySelectorAll('input[name="windowDays"]:checked'), (box) => /** @type {HTMLInputElement} */ (box).value);
  return readWindow({ from: f.windowFrom.value, to: f.windowTo.value, days, blackout: f.windowBlackout.value });
}

/**
 * The form's fields for the upload, as the API wants them (only the ones set).
 * @param {HTMLFormElement} form
 */
function formFields(form) {
  const f = controls(form);
  /** @type {Record<string, string>} */
  const out = { agentId: f.agentId.value };
  if (f.name.value.trim()) out.name = f.name.value.trim();
  const at = localToUtc(f.scheduledAt.value);
  if (at) out.scheduledAt = at;
  if (f.smart.checked) {
    const hours = Number(f.gapHours.value);
    out.smartCallbackConfig = JSON.stringify({
      enabled: true,
      maxAttempts: Number(f.maxAttempts.value),
      // The API counts a gap in days + hours; whole hours are enough for a form.
      gaps: [{ days: Math.floor(hours / 24), hours: hours % 24 }],
    });
  }
  const { window } = windowOf(form);
  if (window) out.callingWindow = JSON.stringify(window);
  if (f.maxConcurrent.value) out.maxConcurrentCalls = f.maxConcurrent.value;
  if (f.skipInvalid.checked) out.onInvalidRows = "skip";
  return out;
}

/**
 * What "the same file and fields" means for enabling Start after a check.
 * @param {HTMLFormElement} form
 */
function signature(form) {
  const file = controls(form).file.files?.[0];
  return JSON.stringify([file?.name, file?.size, file?.lastModified, formFields(form)]);
}

/**
 * The upload's body: the fields, `extra` ones (dryRun), the file.
 * @param {HTMLFormElement} form
 * @param {Record<string, string>} [extra]
 */
function formData(form, extra = {}) {
  const data = new FormData();
  for (const [k, v] of Object.entries({ ...formFields(form), ...extra })) data.append(k, v);
  data.append("file", /** @type {File} */ (controls(form).file.files?.[0]));
  return data;
}

/**
 * @param {string} label
 * @param {number | undefined} value
 */
const num = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value === undefined ? "—" : fmtNumber(value)));

/**
 * The dry run's verdict: the numbers, and the invalid rows (from a 200 or from a 400's details).
 * @param {Partial<Omit<StartBatchResponse, "details">> & { details?: unknown }} result
 * @param {boolean} ok
 */
function verdict(result, ok) {
  /** @type {RowError[]} */
  const details = Array.isArray(result.details) ? result.details : [];
  const rows = details.map((d) => [String(d.row), d.column ?? "—", d.value ?? "—", d.message]);
  return [
    h("p", { class: ok ? "ok" : "" }, ok ? result.message : "The file can't be started as it is."),
    h(
      "dl",
      { class: "stats" },
      num("Rows to call", result.totalCalls),
      num("Duplicates removed", result.duplicatesRemoved),
      num("Suppressed", result.suppressed),
      num("Invalid rows", result.invalidRows),
    ),
    rows.length ? table("Invalid rows", ["Line", "Column", "Value", "Message"], rows) : null,
    rows.length && (result.invalidRows ?? 0) > rows.length
      ? h("p", { class: "hint" }, `Showing the first ${rows.length} of ${fmtNumber(result.invalidRows)} invalid rows.`)
      : null,
  ].filter((el) => el !== null);
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
  const smart = h("input", { type: "checkbox", name: "smart", id: "f-smart" });
  const smartFields = h(
    "div",
    { class: "row", hidden: true },
    field("Max attempts", h("input", { type: "number", name: "maxAttempts", min: 1, max: 10, value: 3 }), "All attempts, the first included (1–10)."),
    field("Gap (hours)", h("input", { type: "number", name: "gapHours", min: 1, max: 720, value: 2 }), "Wait after an unanswered, busy or failed call."),
  );
  // The calling window's errors sit under their fields and are read out as they change.
  const fieldError = (/** @type {string} */ id) => h("span", { class: "field-error", id, "aria-live": "polite" });
  const [timesError, daysError, blackoutError] = [fieldError("f-times-error"), fieldError("f-days-error"), fieldError("f-blackout-error")];
  const windowFrom = h("input", { type: "time", name: "windowFrom", "aria-describedby": timesError.id });
  const windowTo = h("input", { type: "time", name: "windowTo", "aria-describedby": timesError.id });
  const blackoutInput = h("input", { name: "windowBlackout", autocomplete: "off", placeholder: "2026-12-25, 2026-12-26" });
  const dayBoxes = DAYS.map((d) => h("input", { type: "checkbox", name: "windowDays", value: d, id: `f-day-${d}`, checked: true }));
  const places = PLACES.map(([name, tz]) => h("option", { value: tz }, name));
  const preview = h("p", { class: "preview", role: "status" });
  const startButton = h("button", { type: "button", disabled: true }, "Start batch");
  const checkButton = h("button", { type: "submit", class: "secondary" }, "Check file");

  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "new-title" },
    dropZone,
    field("Agent", agentSelect),
    field("Name", h("input", { name: "name", maxlength: 200, autocomplete: "off" }), "Optional; shown in the batches list."),
    field("Start time", startInput, h("span", {}, "Your local time; empty = start now. ", utcHint)),
    h("div", { class: "check" }, smart, h("label", { for: "f-smart" }, "Smart callbacks")),
    smartFields,
    h(
      "fieldset",
      {},
      h("legend", {}, "Calling window (optional, in each recipient's time zone)"),
      h("div", { class: "row" }, field("Calling window from", windowFrom), field("Calling window to", windowTo)),
      timesError,
      h(
        "fieldset",
        { class: "days", "aria-describedby": daysError.id },
        h("legend", {}, "Days"),
        dayBoxes.map((box) => h("span", { class: "check" }, box, h("label", { for: box.id }, box.value[0]?.toUpperCase() + box.value.slice(1)))),
        daysError,
      ),
      field("Blackout dates", blackoutInput, h("span", {}, BLACKOUT_HINT, blackoutError)),
      field("Preview for a recipient in", h("select", { name: "previewPlace" }, places)),
      preview,
    ),
    field("Max concurrent calls", h("input", { type: "number", name: "maxConcurrent", min: 1 }), "Optional; never above the workspace's limit."),
    h(
      "div",
      { class: "check" },
      h("input", { type: "checkbox", name: "skipInvalid", id: "f-skip" }),
      h("label", { for: "f-skip" }, "Skip invalid rows (otherwise any invalid row stops the batch)"),
    ),
    error,
    h("div", { class: "actions" }, checkButton, startButton),
  );
  root.append(h("h1", { tabindex: -1, id: "new-title" }, "New batch"), form, verdictRegion);

  // Start is only offered for exactly what was checked; any change asks for a new check.
  const sync = () => {
    const { window, errors } = windowOf(form);
    const wrong = Object.keys(errors).length > 0;
    startButton.disabled = wrong || !checked || checked.signature !== signature(form);
    const utc = localToUtc(startInput.value);
    utcHint.textContent = utc ? `Sent as ${utc} (UTC).` : "";
    smartFields.hidden = !smart.checked;
    [timesError.textContent, daysError.textContent, blackoutError.textContent] = [errors.times ?? "", errors.days ?? "", errors.blackout ?? ""];
    for (const input of [windowFrom, windowTo]) input.setAttribute("aria-invalid", String(Boolean(errors.times)));
    blackoutInput.setAttribute("aria-invalid", String(Boolean(errors.blackout)));
    if (!wrong && error.textContent?.startsWith(WINDOW_WRONG)) showError(error, null); // fixed since Check said so
    // When a recipient there would first be called, from the start time (or now): recomputed on every change.
    const place = controls(form).previewPlace.value;
    preview.textContent = wrong ? "Fix the calling window to see when calls start." : previewText(window, place, utc ? Date.parse(utc) : null);
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
    const wrong = Object.values(windowOf(form).errors);
    if (wrong.length) return showError(error, new Error(`${WINDOW_WRONG} ${wrong.join(" ")}`));
    const sig = signature(form);
    checkButton.disabled = true;
    showError(error, null);
    try {
      /** @type {StartBatchResponse} */
      const result = await request("/batch-calls", { method: "POST", body: formData(form, { dryRun: "true" }) });
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
    if (!checked || checked.signature !== signature(form) || Object.keys(windowOf(form).errors).length) return;
    startButton.disabled = true;
    showError(error, null);
    try {
      /** @type {StartBatchResponse} */
      const result = await request("/batch-calls", { method: "POST", body: formData(form), headers: { "idempotency-key": checked.idempotencyKey } });
      if (workspaceId) lastAgent.set(workspaceId, agentSelect.value);
      location.hash = `#/batches/${result.batchId}`;
    } catch (err) {
      showError(error, err);
      sync();
    }
  });
}
