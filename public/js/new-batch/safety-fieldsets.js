// @ts-check
// The New batch form's "Stop rules" and "Pre-dial check" fieldsets: their fields, each field's
// error under it (read out as it changes), and the upload fields they make.

import { field, h } from "../ui.js";
import { DEFAULT_WINDOW, readPreDial, readStopRules } from "./safety-fields.js";

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

/** The two fieldsets, what they say, and a repaint of their errors. */
export function safetyFieldsets() {
  const errors = {
    failure: fieldError("f-failure-error"),
    voicemail: fieldError("f-voicemail-error"),
    window: fieldError("f-rule-window-error"),
    preDial: fieldError("f-pre-dial-error"),
  };
  const failure = h("input", { name: "maxFailurePct", inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 30" });
  const voicemail = h("input", { name: "maxVoicemailPct", inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 60" });
  const windowInput = h("input", { name: "ruleWindow", inputmode: "numeric", autocomplete: "off", value: DEFAULT_WINDOW });
  const url = h("input", { type: "url", name: "preDialUrl", autocomplete: "off", placeholder: "https://example.com/pre-dial" });
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

  const read = () => {
    const rules = readStopRules({ failure: failure.value, voicemail: voicemail.value, window: windowInput.value });
    const check = readPreDial({ url: url.value, onError: onError.value });
    /** @type {Record<string, string>} */
    const fields = { ...check.fields };
    if (rules.stopRules) fields.stopRules = JSON.stringify(rules.stopRules);
    return { fields, ruleErrors: Object.values(rules.errors), preDialError: check.error, byField: rules.errors };
  };

  return {
    els: [stopRules, preDial],
    /** The upload's fields these make (only those set). */
    fields: () => read().fields,
    /**
     * Shows each field's error.
     * @returns {{ stopRules: string[], preDial: string[] }} what is wrong, as sentences, by fieldset
     */
    show() {
      const { ruleErrors, preDialError, byField } = read();
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
      return { stopRules: ruleErrors, preDial: preDialError ? [preDialError] : [] };
    },
  };
}
