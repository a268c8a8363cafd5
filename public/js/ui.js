// @ts-check
// Small DOM helpers shared by the views. Everything the API returns is put on
// the page as text nodes (never innerHTML), so a CSV cell can't inject markup.

import { finishedOf, fmtNumber } from "./format.js";

// The text formats live apart from the DOM helpers (plain Node can test them); views import them from here too.
export { finishedOf, fmtDuration, fmtNumber, fmtTime } from "./format.js";

/** @typedef {import("./types.js").Counts} Counts */
/** @typedef {import("./types.js").Pagination} Pagination */
/** @typedef {Node | string | null | undefined | false} Child a node, text, or nothing (skipped) */
/** @typedef {string | number | boolean | null | undefined | ((event: Event) => unknown)} AttrValue */

/**
 * h("button", {type: "button", onclick}, "Text") → an element.
 * Attributes starting with "on" become listeners; `hidden`/`disabled`-style
 * booleans are set as properties; null/undefined/false children are skipped.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue> | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === "class") el.className = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
/**
 * Like h() for SVG elements (no listeners needed there); empty text is skipped too.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children.flat().filter(isPresent));
  return el;
}

/**
 * Boolean(c), as a type guard.
 * @param {Child} c
 * @returns {c is Node | string}
 */
const isPresent = (c) => Boolean(c);

/**
 * Shows an API error (or clears it with null) in an element that has role="alert".
 * @param {HTMLElement} el
 * @param {unknown} err an Error (its message is shown), or null
 */
export function showError(el, err) {
  const message = typeof err === "object" && err !== null && "message" in err ? err.message : undefined;
  el.textContent = err ? String(message ?? err) : "";
}

/**
 * A progress bar split by result. The element carries role="progressbar"
 * with the percent finished; the coloured segments are decoration, so the
 * counts are also given as aria-valuetext.
 * @param {Counts} p
 * @param {string} label
 */
export function progressBar(p, label) {
  const total = p.total || 0;
  const pct = total ? Math.round((finishedOf(p) / total) * 100) : 0;
  const bar = h("div", {
    class: "progress",
    role: "progressbar",
    "aria-label": label,
    "aria-valuemin": 0,
    "aria-valuemax": 100,
    "aria-valuenow": pct,
    "aria-valuetext": `${pct}% finished: ${p.completed} completed, ${p.failed} failed, ${p.cancelled ?? 0} cancelled, ${p.active} active, ${p.waiting} waiting`,
  });
  for (const key of /** @type {const} */ (["completed", "failed", "cancelled", "active"])) {
    const seg = h("span", { class: `seg seg-${key}` });
    // CSSOM, not a style attribute: the page's CSP forbids inline styles.
    seg.style.width = total ? `${(100 * (p[key] ?? 0)) / total}%` : "0";
    bar.append(seg);
  }
  return bar;
}

/**
 * Previous / Next buttons that stay in place (so keyboard focus survives a
 * refresh); update(pagination) sets their state, go(page) loads another page.
 * @param {(page: number) => void} go
 * @param {string} what the items, for "Page 1 of 3 (52 calls)"
 */
export function makePager(go, what) {
  let current = 1;
  const prev = h("button", { type: "button", class: "secondary", disabled: true, onclick: () => go(current - 1) }, "Previous");
  const next = h("button", { type: "button", class: "secondary", disabled: true, onclick: () => go(current + 1) }, "Next");
  const info = h("span", {});
  return {
    el: h("div", { class: "pager" }, prev, info, next),
    /** @param {Pagination} pagination */
    update({ page, totalPages, total, hasPrev, hasNext }) {
      current = page;
      prev.disabled = !hasPrev;
      next.disabled = !hasNext;
      info.textContent = total ? `Page ${page} of ${totalPages} (${fmtNumber(total)} ${what})` : `No ${what}`;
    },
  };
}

/**
 * A table with a caption and header cells; setRows(rows) replaces only the
 * body (rows are arrays of cells: nodes or text). If focus was on a link or
 * button in the body, it is put back on the same one (matched by href or
 * data-key) so a live refresh doesn't throw a keyboard user out. hideCaption:
 * the caption still names the table for assistive tech, but a heading above says it.
 * labelledBy: the id of a heading that names the table, in place of a caption.
 * stack: on a narrow screen each row is a card of labelled cells (app.css,
 * table.stack), so no column is out of sight off to the side.
 * @param {string} caption
 * @param {string[]} headers
 * @param {string} [empty] the one row's text when there are none
 * @param {{ hideCaption?: boolean, labelledBy?: string, stack?: boolean }} [options]
 */
export function dataTable(caption, headers, empty = "Nothing here yet.", { hideCaption = false, labelledBy, stack = false } = {}) {
  const tbody = h("tbody");
  return {
    // Focusable and named: on a narrow screen the wrapper scrolls sideways, and a
    // keyboard user must be able to scroll it (axe: scrollable-region-focusable).
    el: h(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `${caption} (scrolls sideways)` },
      h(
        "table",
        { class: [headers.length >= 5 ? "wide" : "", stack ? "stack" : ""].join(" ").trim() || null, "aria-labelledby": labelledBy },
        labelledBy ? null : h("caption", { class: hideCaption ? "sr-only" : null }, caption),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            headers.map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        tbody,
      ),
    ),
    /** @param {(Node | string | null | undefined)[][]} rows */
    setRows(rows) {
      const active = document.activeElement;
      const key = active instanceof HTMLElement && tbody.contains(active) ? (active.getAttribute("href") ?? active.dataset.key) : null;
      tbody.replaceChildren(
        ...(rows.length
          ? rows.map((r) =>
              h(
                "tr",
                {},
                // data-label: a stacked row's cell says which column it is (app.css shows it before the value).
                r.map((c, i) => h("td", { "data-label": stack ? headers[i] : null }, c ?? "—")),
              ),
            )
          : [h("tr", {}, h("td", { colspan: headers.length }, empty))]),
      );
      if (key) /** @type {HTMLElement | null} */ (tbody.querySelector(`[href="${CSS.escape(key)}"], [data-key="${CSS.escape(key)}"]`))?.focus();
    },
  };
}

/**
 * A table filled once.
 * @param {string} caption
 * @param {string[]} headers
 * @param {(Node | string | null | undefined)[][]} rows
 * @param {string} [empty]
 */
export function table(caption, headers, rows, empty) {
  const t = dataTable(caption, headers, empty);
  t.setRows(rows);
  return t.el;
}

/**
 * A <label> + control pair with an optional hint wired up through aria-describedby.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {Child} [hint]
 */
export function field(label, control, hint) {
  control.id ||= `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintEl = h("p", { class: "hint", id: `${control.id}-hint` }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
    parts.push(hintEl);
  }
  return h("div", { class: "field" }, parts);
}

/**
 * Saves a Blob as a file: a plain link can't send the API headers, so the page fetches and hands over a blob URL.
 * @param {Blob} blob
 * @param {string} filename
 */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
