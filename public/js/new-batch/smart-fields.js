// @ts-check
// "Smart callbacks" on the New batch form and the batch page's edit form: a checkbox, and while
// it is ticked the attempts and the gap between them, read into the API's smartCallbackConfig.

import { field, h } from "../ui.js";

/**
 * A batch's smartCallbackConfig as the console reads and writes it; the fields it does not show
 * (retryOn, maxRequestedCallbacks) are kept as they are by the edit form.
 * @typedef {{ enabled?: boolean, maxAttempts?: number, gaps?: { days?: number, hours?: number }[], [key: string]: unknown }} SmartConfig
 */

/**
 * @param {string} prefix the controls' id prefix: one set per page
 */
export function smartFields(prefix = "f") {
  const smart = h("input", { type: "checkbox", name: "smart", id: `${prefix}-smart` });
  const maxAttempts = h("input", { type: "number", name: "maxAttempts", id: `${prefix}-max-attempts`, min: 1, max: 10, value: 3 });
  const gapHours = h("input", { type: "number", name: "gapHours", id: `${prefix}-gap-hours`, min: 1, max: 720, value: 2 });
  const more = h(
    "div",
    { class: "row", hidden: true },
    field("Max attempts", maxAttempts, "All attempts, the first included (1–10)."),
    field("Gap (hours)", gapHours, "Wait after an unanswered, busy or failed call."),
  );
  const sync = () => {
    more.hidden = !smart.checked;
  };
  smart.addEventListener("change", sync);

  return {
    els: [h("div", { class: "check" }, smart, h("label", { for: smart.id }, "Smart callbacks")), more],
    /**
     * The config the fields say (null while unticked).
     * @returns {SmartConfig | null}
     */
    read() {
      if (!smart.checked) return null;
      const hours = Number(gapHours.value);
      // The API counts a gap in days + hours; whole hours are enough for a form.
      return { enabled: true, maxAttempts: Number(maxAttempts.value), gaps: [{ days: Math.floor(hours / 24), hours: hours % 24 }] };
    },
    /**
     * Shows a batch's config (its first gap, in hours).
     * @param {SmartConfig | null | undefined} config
     */
    fill(config) {
      smart.checked = Boolean(config?.enabled);
      maxAttempts.value = String(config?.maxAttempts ?? 3);
      const gap = config?.gaps?.[0];
      gapHours.value = String(gap ? (gap.days ?? 0) * 24 + (gap.hours ?? 0) || 2 : 2);
      sync();
    },
  };
}
