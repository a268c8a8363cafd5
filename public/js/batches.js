// @ts-check
// The batches list: each batch's name (or file and time), status, progress; refreshed while any runs
// (a draft waits for its Start, so it alone keeps no refresh going).

import { request } from "./api.js";
import { FINAL } from "./batch/final.js";
import { batchTitle, titleHidesId } from "./batch/title.js";
import { dataTable, fmtNumber, fmtTime, h, makePager, progressBar, showError } from "./ui.js";

/** @typedef {import("./types.js").Batch} Batch */
/** @typedef {import("./types.js").BatchList} BatchList */

/**
 * The Name cell: a link to the batch, and its id below when the link's text leaves it out (operators copy it).
 * @param {Batch} b
 */
function nameCell(b) {
  return h(
    "div",
    { class: "batch-name" },
    h("a", { href: `#/batches/${b.id}` }, batchTitle(b)),
    titleHidesId(b) ? h("span", { class: "batch-id" }, b.id) : null,
  );
}

/** @param {HTMLElement} root */
export function batchesView(root) {
  let page = 1;
  /** @type {number | undefined} */
  let timer;
  const error = h("div", { class: "error", role: "alert" });
  // The heading names the table (no caption saying "Batches" a second time); on a phone each batch is a card.
  const list = dataTable("Batches", ["Name", "Created", "Status", "Progress", "Calls"], "No batches yet. Start one from New batch.", {
    labelledBy: "batches-title",
    stack: true,
  });
  const pages = makePager((n) => {
    page = n;
    load();
  }, "batches");
  root.append(h("h1", { tabindex: -1, id: "batches-title" }, "Batches"), error, list.el, pages.el);

  async function load() {
    clearTimeout(timer);
    try {
      /** @type {BatchList} */
      const { batches, pagination } = await request(`/batch-calls?page=${page}&limit=20`);
      const rows = batches.map((b) => {
        const p = b.progress;
        return [
          nameCell(b),
          fmtTime(b.createdAt),
          h("span", { class: `badge status-${b.status}` }, b.status),
          progressBar(p, `Progress of ${batchTitle(b)}`),
          `${fmtNumber(p.completed + p.failed + p.cancelled)} of ${fmtNumber(p.total)} done` +
            (p.failed ? ` · ${fmtNumber(p.failed)} failed` : "") +
            (p.cancelled ? ` · ${fmtNumber(p.cancelled)} cancelled` : ""),
        ];
      });
      list.setRows(rows);
      pages.update(pagination);
      showError(error, null);
      // The list's counters are a summary the server keeps about a second behind;
      // refresh it while something is still running, stop once all are final.
      if (batches.some((b) => !FINAL.has(b.status) && b.status !== "draft")) timer = setTimeout(load, 4000);
    } catch (err) {
      showError(error, err);
    }
  }
  load();
  return () => clearTimeout(timer);
}
