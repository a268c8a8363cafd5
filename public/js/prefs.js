// @ts-check
// What the console remembers between visits, in localStorage: choices, never secrets
// (the credentials stay in sessionStorage, api.js). Keyed by workspace, since one
// browser may sign in to several and an agent id means nothing in another.

/** @typedef {import("./types.js").Agent} Agent */

const LAST_AGENT = "bc.lastAgent.";

export const lastAgent = {
  /**
   * @param {string} workspaceId
   * @returns {string | null}
   */
  get: (workspaceId) => localStorage.getItem(LAST_AGENT + workspaceId),
  /**
   * @param {string} workspaceId
   * @param {string} agentId
   */
  set: (workspaceId, agentId) => localStorage.setItem(LAST_AGENT + workspaceId, agentId),
};

/**
 * The agent the New batch form starts on: the one last used, while it still exists, else the first listed.
 * @param {Pick<Agent, "agentId">[]} agents
 * @param {string | null} remembered
 * @returns {string} "" when there are none
 */
export function agentToPreselect(agents, remembered) {
  return agents.find((a) => a.agentId === remembered)?.agentId ?? agents[0]?.agentId ?? "";
}
