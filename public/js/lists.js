// @ts-check
// The Do-not-call page: a list, an add form, a Remove per row. The Agents page
// lives in agents.js (re-exported here, where the router has always found it).

import { ApiError, request } from "./api.js";
import { dataTable, field, fmtNumber, fmtTime, h, makePager, showError } from "./ui.js";

export { agentsView } from "./agents.js";

/** @typedef {import("./types.js").DncAdded} DncAdded */
/** @typedef {import("./types.js").DncEntry} DncEntry */
/** @typedef {import("./types.js").DncPage} DncPage */

/**
 * A "Remove" button for one row; data-key lets a refresh put focus back on its neighbour's.
 * @param {string} key
 * @param {() => void} onclick
 */
function removeButton(key, onclick) {
  return h("button", { type: "button", class: "secondary small", "data-key": key, onclick }, "Remove");
}

/** @param {HTMLElement} root */
export function dncView(root) {
  let page = 1;
  const error = h("div", { class: "error", role: "alert" });
  const formError = h("div", { class: "error", role: "alert" });
  const note = h("p", { role: "status", class: "ok" });
  const list = dataTable("Do-not-call numbers", ["Number", "Added", "Source", "Actions"], "The list is empty.");
  const pages = makePager((n) => {
    page = n;
    load();
  }, "numbers");

  async function load() {
    try {
      /** @type {DncPage} */
      const { phoneNumbers, pagination } = await request(`/dnc?page=${page}&limit=50`);
      if (!phoneNumbers.length && page > 1) {
        page = pagination.totalPages || 1;
        return load();
      }
      list.setRows(
        phoneNumbers.map((n) => [n.phoneNumber, fmtTime(n.createdAt), sourceOf(n), removeButton(`rm-${n.phoneNumber}`, () => remove(n.phoneNumber))]),
      );
      pages.update(pagination);
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }

  /** @param {string} number */
  async function remove(number) {
    try {
      await request(`/dnc/${encodeURIComponent(number)}`, { method: "DELETE" });
      note.textContent = `Removed ${number}.`;
      await load();
      root.querySelector("h1")?.focus();
    } catch (err) {
      showError(error, err);
    }
  }

  const numbers = h("textarea", { name: "numbers", rows: 5, spellcheck: "false" });
  const form = h(
    "form",
    { "aria-labelledby": "add-dnc-title", novalidate: true, class: "card" },
    h("h2", { id: "add-dnc-title" }, "Add numbers"),
    field("Numbers to add", numbers, "One per line. Numbers without + are read as US numbers."),
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add")),
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const phoneNumbers = numbers.value
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    showError(formError, null);
    note.textContent = "";
    if (!phoneNumbers.length) return showError(formError, new Error("Enter at least one number, one per line."));
    try {
      /** @type {DncAdded} */
      const { added, skipped } = await request("/dnc", { method: "POST", json: { phoneNumbers } });
      numbers.value = "";
      note.textContent = `Added ${fmtNumber(added)}${skipped ? ` (${fmtNumber(skipped)} already on the list)` : ""}.`;
      await load();
    } catch (err) {
      showError(formError, namingBadNumbers(err));
    }
  });

  root.append(h("h1", { tabindex: -1 }, "Do-not-call"), note, form, error, list.el, pages.el);
  load();
}

/**
 * How a number came onto the list: added directly (this page, POST /dnc), or asked for on a call (linked to its batch).
 * @param {DncEntry} entry
 */
function sourceOf({ source }) {
  if (!source) return "Added directly";
  const batch = /^batch_[A-Za-z0-9_-]+$/.test(source.batchId) ? h("a", { href: `#/batches/${source.batchId}` }, source.batchId) : source.batchId;
  return h("span", { class: "source" }, "Opted out on a call in ", batch);
}

/**
 * A 400 lists the numbers it couldn't read: name them, so the person knows which lines to fix.
 * @param {unknown} err
 */
function namingBadNumbers(err) {
  if (!(err instanceof ApiError) || !Array.isArray(err.details)) return err;
  /** @type {{ value?: unknown }[]} */
  const details = err.details;
  const bad = details.map((d) => d.value).filter((v) => typeof v === "string");
  return bad.length ? new Error(`${err.message} Not valid: ${bad.slice(0, 10).join(", ")}${bad.length > 10 ? ", …" : ""}`) : err;
}
