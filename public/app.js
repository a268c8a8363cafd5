// @ts-check
// The console's entry point: sign-in, navigation and hash routing.
// Each view is a function (root, params) that renders into `root` and may
// return a cleanup function (stop streams and timers when the page changes).

import { ApiError, request, session, setUnauthorizedHandler } from "./js/api.js";
import { showError } from "./js/ui.js";
import { batchesView } from "./js/batches.js";
import { newBatchView } from "./js/new-batch.js";
import { batchView } from "./js/batch/page.js";
import { agentsView, dncView } from "./js/lists.js";

/** @typedef {(root: HTMLElement, params: string[]) => (() => void) | void} View renders a page; may return its cleanup */

/** @type {[RegExp, View, string][]} */
const ROUTES = [
  [/^#\/batches$/, batchesView, "Batches"],
  [/^#\/new$/, newBatchView, "New batch"],
  [/^#\/batches\/(batch_[A-Za-z0-9_-]+)$/, batchView, "Batch"],
  [/^#\/agents$/, agentsView, "Agents"],
  [/^#\/dnc$/, dncView, "Do-not-call"],
];

/**
 * An element of index.html (they are always there).
 * @param {string} id
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @type {(() => void) | null} */
let cleanup = null;

/** @param {boolean} signedIn */
function showSignedIn(signedIn) {
  $("sign-in").hidden = signedIn;
  $("nav").hidden = !signedIn;
  $("who").hidden = !signedIn;
  $("who-ws").textContent = signedIn ? (session.get()?.workspaceId ?? "") : "";
}

function route() {
  cleanup?.();
  cleanup = null;
  const view = $("view");
  view.replaceChildren();
  if (!session.get()) {
    showSignedIn(false);
    document.title = "Sign in · Batch Calls";
    return;
  }
  showSignedIn(true);
  const hash = location.hash || "#/batches";
  const match = findRoute(hash);
  if (!match) {
    location.replace("#/batches");
    return;
  }
  const { render, params, title } = match;
  document.title = `${title} · Batch Calls`;
  for (const a of $("nav").querySelectorAll("a")) {
    if (a.getAttribute("href") === hash) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  cleanup = render(view, params) ?? null;
  // Move focus to the new page's heading, as a full page load would for a screen reader.
  view.querySelector("h1")?.focus({ preventScroll: false });
}

/**
 * The first route `hash` matches, with what its pattern captured.
 * @param {string} hash
 */
function findRoute(hash) {
  for (const [re, render, title] of ROUTES) {
    const m = hash.match(re);
    if (m) return { render, params: m.slice(1), title };
  }
  return null;
}

/** @param {SubmitEvent} event */
async function signIn(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.currentTarget);
  const workspaceId = form.workspaceId.value.trim();
  const apiKey = form.apiKey.value.trim();
  const errorEl = $("sign-in-error");
  if (!workspaceId || !apiKey) return showError(errorEl, new Error("Enter both the workspace ID and the API key."));
  const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
  button.disabled = true;
  try {
    // Any cheap authenticated read proves the pair; the agents list is one query.
    await request("/agents", { creds: { workspaceId, apiKey } });
    session.set(workspaceId, apiKey);
    showError(errorEl, null);
    form.reset();
    if (!location.hash || location.hash === "#/") location.hash = "#/batches";
    route();
  } catch (err) {
    showError(errorEl, err instanceof ApiError ? err : new Error("Signing in failed; try again."));
  } finally {
    button.disabled = false;
  }
}

/** @param {string} [message] why, shown on the sign-in form */
function signOut(message) {
  session.clear();
  route();
  if (message) showError($("sign-in-error"), new Error(message));
  $("si-ws").focus();
}

$("sign-in-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => signOut());
setUnauthorizedHandler((err) => signOut(`You were signed out: ${err.message}`));
window.addEventListener("hashchange", route);
route();
