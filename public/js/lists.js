// @ts-check
// The Agents and Do-not-call pages: a list, an add form, a Remove per row.

import { ApiError, request } from "./api.js";
import { dataTable, field, fmtNumber, fmtTime, h, makePager, showError } from "./ui.js";

/** @typedef {import("./types.js").Agent} Agent */
/** @typedef {import("./types.js").CreatedAgent} CreatedAgent */
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
export function agentsView(root) {
  const error = h("div", { class: "error", role: "alert" });
  const formError = h("div", { class: "error", role: "alert" });
  const secretSlot = h("div");
  const list = dataTable("Agents", ["Name", "Provider", "Agent ID", "From number", "Created", "Actions"], "No agents yet. Add one below.");

  async function load() {
    try {
      /** @type {{ agents: Agent[] }} */
      const { agents } = await request("/agents");
      list.setRows(
        agents.map((a) => [
          a.name,
          a.provider,
          h("code", {}, a.agentId),
          a.fromNumber ?? "—",
          fmtTime(a.createdAt),
          removeButton(`rm-${a.agentId}`, () => remove(a)),
        ]),
      );
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }

  /** @param {Agent} agent */
  async function remove(agent) {
    try {
      await request(`/agents/${encodeURIComponent(agent.agentId)}`, { method: "DELETE" });
      await load();
      root.querySelector("h1")?.focus();
    } catch (err) {
      showError(error, err);
    }
  }

  const provider = h(
    "select",
    { name: "provider" },
    ["simulated", "twilio", "webhook"].map((p) => h("option", { value: p }, p)),
  );
  const form = h(
    "form",
    { "aria-labelledby": "add-agent-title", novalidate: true, class: "card" },
    h("h2", { id: "add-agent-title" }, "Add agent"),
    field("Name", h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off" })),
    field("Provider", provider, "simulated: no real calls (for trying things out). twilio: needs From number and Voice URL. webhook: needs Dial URL."),
    field("From number", h("input", { name: "fromNumber", type: "tel", autocomplete: "off" }), "Caller ID in E.164, e.g. +14155550100 (twilio)."),
    field("Voice URL", h("input", { name: "voiceUrl", type: "url", autocomplete: "off" }), "TwiML or voice app URL (twilio)."),
    field("Dial URL", h("input", { name: "dialUrl", type: "url", autocomplete: "off" }), "Where dial requests are POSTed (webhook)."),
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add agent")),
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    /** @type {Record<string, string>} */
    const body = {};
    for (const k of ["name", "provider", "fromNumber", "voiceUrl", "dialUrl"]) {
      const v = /** @type {HTMLInputElement | HTMLSelectElement} */ (form.elements.namedItem(k)).value.trim();
      if (v) body[k] = v;
    }
    showError(formError, null);
    try {
      /** @type {CreatedAgent} */
      const agent = await request("/agents", { method: "POST", json: body });
      form.reset();
      secretSlot.replaceChildren(
        agent.signingSecret ? secretNotice(agent.name, agent.signingSecret) : h("p", { role: "status", class: "ok" }, `Added ${agent.name}.`),
      );
      await load();
    } catch (err) {
      showError(formError, err);
    }
  });

  root.append(h("h1", { tabindex: -1 }, "Agents"), error, list.el, secretSlot, form);
  load();
}

/**
 * An agent's signing secret exists in this response only: show it once, with a copy button.
 * @param {string} name the agent's
 * @param {string} secret
 */
function secretNotice(name, secret) {
  const copied = h("span", { role: "status" });
  return h(
    "section",
    { class: "card notice", "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, `Signing secret for ${name}`),
    h("p", {}, "Copy it now: it is shown only this once. Your dialer uses it to verify dial requests and to sign its status reports."),
    h("p", {}, h("code", { class: "secret" }, secret)),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () =>
          navigator.clipboard?.writeText(secret).then(
            () => (copied.textContent = "Copied."),
            () => (copied.textContent = "Copy failed; select the text instead."),
          ),
      },
      "Copy secret",
    ),
    " ",
    copied,
  );
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
