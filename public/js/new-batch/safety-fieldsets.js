// @ts-check
// The New batch form's "Stop rules", "Pre-dial check" and "Budget" fieldsets: their fields, each
// field's error under it (read out as it changes), and the upload fields they make. The batch
// page's edit form shows them too, filled with the batch's values.

import { field, h } from "../ui.js";
import { pct } from "../batch/safety-text.js";
import { DEFAULT_WINDOW, readMaxMinutes, readPreDial, readStopRules } from "./safety-fields.js";

/** @typedef {import("../types.js").Batch} Batch */

/** @param {string} id */
const fieldError = (id) => h("span", { class: "field-error", id, "aria-live": "polite" });

/**
 * A control whose hint and error are both its description (field() sets the hint's).
 * @param {HTMLElement} wrapper field()'s element
 * @param {HTMLElement} control
 * @param {HTMLElement} error
 */
function withError(wrapper, control, error) {
  const described = control.getAttribute("aria-describedby");
  control.setAttribute("aria-describedby", described ? `${described} ${error.id}` : error.id);
  wrapper.append(error);
  return wrapper;
}

/** The three fieldsets, what they say, and a repaint of their errors. */
export function safetyFieldsets() {
  const errors = {
    failure: fieldError("f-failure-error"),
    voicemail: fieldError("f-voicemail-error"),
    window: fieldError("f-rule-window-error"),
    preDial: fieldError("f-pre-dial-error"),
    budget: fieldError("f-budget-error"),
  };
  const failure = h("input", { name: "maxFailurePct", inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 30" });
  const voicemail = h("input", { name: "maxVoicemailPct", inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 60" });
  const windowInput = h("input", { name: "ruleWindow", inputmode: "numeric", autocomplete: "off", value: DEFAULT_WINDOW });
  const url = h("input", { type: "url", name: "preDialUrl", autocomplete: "off", placeholder: "https://example.com/pre-dial" });
  const budget = h("input", { name: "maxMinutes", id: "f-budget", inputmode: "numeric", autocomplete: "off", placeholder: "e.g. 500" });
  const onError = h("select", { name: "preDialOnError" }, h("option", { value: "skip" }, "Skip the call"), h("option", { value: "dial" }, "Dial anyway"));

  const stopRules = h(
    "fieldset",
    {},
    h("legend", {}, "Stop rules (optional: the batch pauses itself)"),
    h(
      "div",
      { class: "row" },
      withError(field("Max failure %", failure, "Carrier failures, not no-answer or busy."), failure, errors.failure),
      withError(field("Max voicemail %", voicemail), voicemail, errors.voicemail),
    ),
    withError(
      field("Window (attempts)", windowInput, "The latest finished attempts judged (10–1000); a rule pauses the batch once they pass its share."),
      windowInput,
      errors.window,
    ),
  );
  const preDial = h(
    "fieldset",
    {},
    h("legend", {}, "Pre-dial check (optional)"),
    withError(field("Pre-dial URL", url, "Before each dial, a signed POST asks it whether to dial; it has 2 seconds to answer."), url, errors.preDial),
    field("If it fails or is slow", onError),
  );
  const budgetSet = h(
    "fieldset",
    {},
    h("legend", {}, "Budget (optional)"),
    withError(
      field("Max minutes", budget, "The batch pauses itself once its calls have used this many minutes (each call rounded up to a whole minute)."),
      budget,
      errors.budget,
    ),
  );

  const read = () => {
    const rules = readStopRules({ failure: failure.value, voicemail: voicemail.value, window: windowInput.value });
    const check = readPreDial({ url: url.value, onError: onError.value });
    const minutes = readMaxMinutes(budget.value);
    /** @type {Record<string, string>} */
    const fields = { ...check.fields };
    if (rules.stopRules) fields.stopRules = JSON.stringify(rules.stopRules);
    if (minutes.maxMinutes !== null) fields.maxMinutes = String(minutes.maxMinutes);
    return {
      fields,
      values: { stopRules: rules.stopRules, preDial: check.fields, maxMinutes: minutes.maxMinutes },
      ruleErrors: Object.values(rules.errors),
      preDialError: check.error,
      budgetError: minutes.error,
      byField: rules.errors,
    };
  };

  return {
    els: [stopRules, preDial, budgetSet],
    /** The upload's fields these make (only those set). */
    fields: () => read().fields,
    /** The values as JSON: stopRules (null: none), preDial ({} or preDialUrl and preDialOnError), maxMinutes (null: no budget). */
    values: () => read().values,
    /**
     * Shows a batch's stop rules, pre-dial check and budget (the edit form).
     * @param {Pick<Batch, "stopRules" | "preDial" | "maxMinutes">} batch
     */
    fill({ stopRules: rules, preDial: check, maxMinutes }) {
      failure.value = rules?.maxFailureRate === undefined ? "" : pct(rules.maxFailureRate).replace("%", "");
      voicemail.value = rules?.maxVoicemailRate === undefined ? "" : pct(rules.maxVoicemailRate).replace("%", "");
      windowInput.value = String(rules?.window ?? DEFAULT_WINDOW);
      url.value = check?.url ?? "";
      onError.value = check?.onError ?? "skip";
      budget.value = maxMinutes ? String(maxMinutes) : "";
    },
    /**
     * Shows each field's error.
     * @returns {{ stopRules: string[], preDial: string[], budget: string[] }} what is wrong, as sentences, by fieldset
     */
    show() {
      const { ruleErrors, preDialError, budgetError, byField } = read();
      for (const [key, input] of /** @type {const} */ ([
        ["failure", failure],
        ["voicemail", voicemail],
        ["window", windowInput],
      ])) {
        errors[key].textContent = byField[key] ?? "";
        input.setAttribute("aria-invalid", String(Boolean(byField[key])));
      }
      errors.preDial.textContent = preDialError ?? "";
      url.setAttribute("aria-invalid", String(Boolean(preDialError)));
      errors.budget.textContent = budgetError ?? "";
      budget.setAttribute("aria-invalid", String(Boolean(budgetError)));
      return { stopRules: ruleErrors, preDial: preDialError ? [preDialError] : [], budget: budgetError ? [budgetError] : [] };
    },
  };
}
