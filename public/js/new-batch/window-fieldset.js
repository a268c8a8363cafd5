// @ts-check
// The New batch form's calling window: from / to, days, blackout dates, each field's own error
// read out as it changes, and the preview of when a recipient somewhere would first be called.

import { DAYS, PLACES, previewText, readWindow } from "../calling-window.js";
import { field, h } from "../ui.js";

const BLACKOUT_HINT = "Optional: the recipient's local dates with no calls (public holidays, say), as YYYY-MM-DD, separated by commas. ";

/** @param {string} id */
const fieldError = (id) => h("span", { class: "field-error", id, "aria-live": "polite" });

/** The fieldset, what it says, and a repaint of its errors and preview. */
export function windowFieldset() {
  const [timesError, daysError, blackoutError] = [fieldError("f-times-error"), fieldError("f-days-error"), fieldError("f-blackout-error")];
  const windowFrom = h("input", { type: "time", name: "windowFrom", "aria-describedby": timesError.id });
  const windowTo = h("input", { type: "time", name: "windowTo", "aria-describedby": timesError.id });
  const blackoutInput = h("input", { name: "windowBlackout", autocomplete: "off", placeholder: "2026-12-25, 2026-12-26" });
  const dayBoxes = DAYS.map((d) => h("input", { type: "checkbox", name: "windowDays", value: d, id: `f-day-${d}`, checked: true }));
  const placeSelect = h(
    "select",
    { name: "previewPlace" },
    PLACES.map(([name, tz]) => h("option", { value: tz }, name)),
  );
  const preview = h("p", { class: "preview", role: "status" });

  const el = h(
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
    field("Preview for a recipient in", placeSelect),
    preview,
  );

  /** The calling window the fields say (null: none, or a wrong one) and what is wrong with it, by field. */
  const read = () =>
    readWindow({
      from: windowFrom.value,
      to: windowTo.value,
      days: dayBoxes.filter((box) => box.checked).map((box) => box.value),
      blackout: blackoutInput.value,
    });

  return {
    el,
    read,
    /**
     * Shows a batch's calling window (the edit form); none clears the fields.
     * @param {{ start?: string, end?: string, days?: string[], blackoutDates?: string[] } | null | undefined} w
     */
    fill(w) {
      windowFrom.value = w?.start ?? "";
      windowTo.value = w?.end ?? "";
      for (const box of dayBoxes) box.checked = !w?.days || w.days.includes(box.value);
      blackoutInput.value = (w?.blackoutDates ?? []).join(", ");
    },
    /**
     * Shows each field's error, and when a recipient in the chosen place would first be called.
     * @param {number | null} startAt the batch's start time (epoch ms), null for now
     * @returns {string[]} what is wrong, as sentences (empty: nothing)
     */
    show(startAt) {
      const { window, errors } = read();
      [timesError.textContent, daysError.textContent, blackoutError.textContent] = [errors.times ?? "", errors.days ?? "", errors.blackout ?? ""];
      for (const input of [windowFrom, windowTo]) input.setAttribute("aria-invalid", String(Boolean(errors.times)));
      blackoutInput.setAttribute("aria-invalid", String(Boolean(errors.blackout)));
      const wrong = Object.values(errors);
      preview.textContent = wrong.length ? "Fix the calling window to see when calls start." : previewText(window, placeSelect.value, startAt);
      return wrong;
    },
  };
}
