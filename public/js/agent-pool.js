// @ts-check
// An agent's pool of numbers on the Agents page: each number's health with a
// switch to rest it, and the form that changes the pool and its caller-id rules.
// The add-agent form uses the same fields (poolFields).

import { ApiError, request } from "./api.js";
import { callerIdFrom, callerIdText, fmtRate, namingPoolNumbers, parseNumbers } from "./agent-pool-text.js";
import { dataTable, field, fmtNumber, fmtTime, h, showError } from "./ui.js";

/** @typedef {import("./agent-pool-text.js").CallerId} CallerId */
/** @typedef {import("./types.js").Agent & { fromNumbers: string[], callerId: CallerId | null }} PoolAgent */
/**
 * @typedef {object} PoolNumber one entry of GET /agents/{agentId}/numbers
 * @property {string} e164
 * @property {boolean} enabled
 * @property {number} position
 * @property {number} attempts24h
 * @property {number | null} answerRate24h
 * @property {number} attempts7d
 * @property {number | null} answerRate7d
 * @property {string | null} lastStartAt
 */

/**
 * The pool's fields (numbers, one per line, and the caller-id rules), filled from `agent` when
 * it is given; `read()` is what to send, `explain(err)` names a refused number by what was typed.
 * @param {string} prefix keeps ids unique when two forms are on the page
 * @param {PoolAgent} [agent]
 */
export function poolFields(prefix, agent) {
  const numbers = h("textarea", { id: `${prefix}-numbers`, name: "fromNumbers", rows: 3, spellcheck: "false", autocomplete: "off" });
  numbers.value = agent?.fromNumbers.join("\n") ?? "";
  const strategy = h(
    "select",
    { id: `${prefix}-strategy`, name: "strategy" },
    h("option", { value: "" }, "Not set: round-robin, no per-number limit"),
    h("option", { value: "round_robin" }, "Round-robin"),
    h("option", { value: "local" }, "Local: the person's area code first"),
  );
  strategy.value = agent?.callerId?.strategy ?? "";
  const perSecond = h("input", { id: `${prefix}-per-second`, name: "callsPerSecond", type: "number", min: 1, max: 100, step: 1, inputmode: "numeric" });
  perSecond.value = agent?.callerId ? String(agent.callerId.perNumber.callsPerSecond) : "";
  const perDay = h("input", { id: `${prefix}-per-day`, name: "maxCallsPerDay", type: "number", min: 1, max: 100000, step: 1, inputmode: "numeric" });
  perDay.value = agent?.callerId?.perNumber.maxCallsPerDay ? String(agent.callerId.perNumber.maxCallsPerDay) : "";
  /** @type {string[]} */
  let sent = [];
  return {
    el: h(
      "div",
      {},
      field("From numbers", numbers, "Caller IDs in E.164, one per line, e.g. +14155550100 (twilio needs at least one). Calls rotate over them."),
      field("Caller ID", strategy, "How each call's number is chosen from the pool."),
      h(
        "div",
        { class: "row" },
        field("Calls per second per number", perSecond, "Default 1 once a rule is set."),
        field("Calls per day per number", perDay, "Empty: no daily limit."),
      ),
    ),
    /** The body's fromNumbers and callerId; `clear`: an empty pool and no rules are sent (a change), not left out (a create). */
    read(clear = false) {
      sent = parseNumbers(numbers.value);
      const callerId = callerIdFrom({ strategy: strategy.value, callsPerSecond: perSecond.value, maxCallsPerDay: perDay.value });
      /** @type {{ fromNumbers?: string[], callerId?: CallerId | null }} */
      const body = {};
      if (sent.length || clear) body.fromNumbers = sent;
      if (callerId || clear) body.callerId = callerId;
      return body;
    },
    /** @param {unknown} err */
    explain(err) {
      return err instanceof ApiError ? new Error(namingPoolNumbers(err.message, sent)) : err;
    },
  };
}

/**
 * The agent's numbers with their health and a switch each, and the form that changes the pool.
 * @param {PoolAgent} agent
 * @param {(agent: PoolAgent) => void} onChanged called with the agent as it now is after a change
 */
export function poolPanel(agent, onChanged) {
  const titleId = "pool-title";
  const error = h("div", { class: "error", role: "alert" });
  const note = h("p", { role: "status", class: "ok" });
  const list = dataTable(
    `Numbers of ${agent.name}`,
    ["Number", "In use", "Calls 24 h", "Answered 24 h", "Calls 7 d", "Answered 7 d", "Last call"],
    "No numbers: add some below.",
    { stack: true, hideCaption: true },
  );

  async function load() {
    try {
      /** @type {{ numbers: PoolNumber[] }} */
      const { numbers } = await request(`/agents/${encodeURIComponent(agent.agentId)}/numbers`);
      list.setRows(
        numbers.map((n) => [
          h("code", {}, n.e164),
          toggle(n),
          fmtNumber(n.attempts24h),
          fmtRate(n.answerRate24h),
          fmtNumber(n.attempts7d),
          fmtRate(n.answerRate7d),
          fmtTime(n.lastStartAt),
        ]),
      );
      showError(error, null);
    } catch (err) {
      showError(error, err);
    }
  }

  /** @param {PoolNumber} n */
  function toggle(n) {
    const box = h("input", { type: "checkbox", role: "switch", "data-key": `use-${n.e164}`, "aria-label": `Use ${n.e164}` });
    box.checked = n.enabled;
    box.addEventListener("change", async () => {
      box.disabled = true;
      try {
        await request(`/agents/${encodeURIComponent(agent.agentId)}/numbers/${encodeURIComponent(n.e164)}`, {
          method: "PATCH",
          json: { enabled: box.checked },
        });
        note.textContent = box.checked ? `${n.e164} is in use again.` : `${n.e164} is resting: no new call starts from it.`;
        showError(error, null);
      } catch (err) {
        box.checked = !box.checked;
        showError(error, err);
      } finally {
        box.disabled = false;
      }
    });
    return box;
  }

  const fields = poolFields("pool", agent);
  const formError = h("div", { class: "error", role: "alert" });
  const form = h(
    "form",
    { "aria-labelledby": "pool-form-title", novalidate: true },
    h("h3", { id: "pool-form-title" }, "Change numbers and caller ID"),
    fields.el,
    formError,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save numbers")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(formError, null);
    try {
      /** @type {PoolAgent} */
      const changed = await request(`/agents/${encodeURIComponent(agent.agentId)}`, { method: "PATCH", json: fields.read(true) });
      onChanged(changed);
    } catch (err) {
      showError(formError, fields.explain(err));
    }
  });

  const el = h(
    "section",
    { class: "card", "aria-labelledby": titleId },
    h("h2", { id: titleId, tabindex: -1 }, `Numbers of ${agent.name}`),
    h("p", { class: "hint" }, callerIdText(agent.callerId)),
    h(
      "p",
      { class: "hint" },
      "Rest a number whose answer rate falls (carriers may be labelling it as spam). With every number resting, this agent's calls wait; they do not fail.",
    ),
    error,
    note,
    list.el,
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh numbers")),
    form,
  );
  load();
  return el;
}
