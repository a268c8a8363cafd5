// @ts-check
// The Agents page: the list, an agent's numbers (their health, a switch to rest
// each, the pool and caller-id form), the add form, a Remove per row.

import { request } from "./api.js";
import { poolFields, poolPanel } from "./agent-pool.js";
import { dataTable, field, fmtTime, h, showError } from "./ui.js";

/** @typedef {import("./agent-pool.js").PoolAgent} PoolAgent */
/** @typedef {PoolAgent & { signingSecret?: string }} CreatedPoolAgent */

/**
 * The pool in a cell: its first number, and how many more.
 * @param {PoolAgent} a
 */
function numbersCell(a) {
  const [first, ...more] = a.fromNumbers ?? (a.fromNumber ? [a.fromNumber] : []);
  if (!first) return "—";
  return more.length ? `${first} (+${more.length} more)` : first;
}

/** @param {HTMLElement} root */
export function agentsView(root) {
  const error = h("div", { class: "error", role: "alert" });
  const formError = h("div", { class: "error", role: "alert" });
  const secretSlot = h("div");
  const poolSlot = h("div");
  /** The agent whose numbers are shown, if any. */
  let shown = /** @type {string | null} */ (null);
  const list = dataTable("Agents", ["Name", "Provider", "Agent ID", "From numbers", "Created", "Actions"], "No agents yet. Add one below.");

  async function load() {
    try {
      /** @type {{ agents: PoolAgent[] }} */
      const { agents } = await request("/agents");
      list.setRows(
        agents.map((a) => [
          a.name,
          a.provider,
          h("code", {}, a.agentId),
          numbersCell(a),
          fmtTime(a.createdAt),
          h(
            "span",
            {},
            h(
              "button",
              { type: "button", class: "secondary small", "data-key": `pool-${a.agentId}`, "aria-label": `Numbers of ${a.name}`, onclick: () => showPool(a) },
              "Numbers",
            ),
            " ",
            h("button", { type: "button", class: "secondary small", "data-key": `rm-${a.agentId}`, onclick: () => remove(a) }, "Remove"),
          ),
        ]),
      );
      if (shown && !agents.some((a) => a.agentId === shown)) showPool(null);
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }

  /**
   * Shows the agent's numbers below the list (null hides them) and takes focus there.
   * @param {PoolAgent | null} agent
   * @param {boolean} [focus]
   */
  function showPool(agent, focus = true) {
    shown = agent?.agentId ?? null;
    poolSlot.replaceChildren(
      ...(agent
        ? [
            poolPanel(agent, (changed) => {
              showPool(changed, false);
              load();
            }),
          ]
        : []),
    );
    if (agent && focus) /** @type {HTMLElement | null} */ (poolSlot.querySelector("h2"))?.focus();
  }

  /** @param {PoolAgent} agent */
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
  const pool = poolFields("add");
  const form = h(
    "form",
    { "aria-labelledby": "add-agent-title", novalidate: true, class: "card" },
    h("h2", { id: "add-agent-title" }, "Add agent"),
    field("Name", h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off" })),
    field("Provider", provider, "simulated: no real calls (for trying things out). twilio: needs From numbers and Voice URL. webhook: needs Dial URL."),
    pool.el,
    field("Voice URL", h("input", { name: "voiceUrl", type: "url", autocomplete: "off" }), "TwiML or voice app URL (twilio)."),
    field("Dial URL", h("input", { name: "dialUrl", type: "url", autocomplete: "off" }), "Where dial requests are POSTed (webhook)."),
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add agent")),
  );

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    /** @type {Record<string, unknown>} */
    const body = {};
    for (const k of ["name", "provider", "voiceUrl", "dialUrl"]) {
      const v = /** @type {HTMLInputElement | HTMLSelectElement} */ (form.elements.namedItem(k)).value.trim();
      if (v) body[k] = v;
    }
    Object.assign(body, pool.read());
    showError(formError, null);
    try {
      /** @type {CreatedPoolAgent} */
      const agent = await request("/agents", { method: "POST", json: body });
      form.reset();
      secretSlot.replaceChildren(
        agent.signingSecret ? secretNotice(agent.name, agent.signingSecret) : h("p", { role: "status", class: "ok" }, `Added ${agent.name}.`),
      );
      await load();
    } catch (err) {
      showError(formError, pool.explain(err));
    }
  });

  root.append(h("h1", { tabindex: -1 }, "Agents"), error, list.el, poolSlot, secretSlot, form);
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
