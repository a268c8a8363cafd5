// @ts-check
// The New batch form's brakes, read into the upload's fields: stop rules (percentages on the
// form, shares in the API) and the pre-dial check. The checks say in the form's words what the
// server would refuse (src/domain/stop-rules.ts, src/domain/batch-options.ts, src/lib/url-policy.ts),
// so a mistake shows under its field before the upload; the server's 400 stays the last word
// (it alone knows, say, whether a host is private). No DOM here: plain Node tests it.

/** The window the server judges when none is given. */
export const DEFAULT_WINDOW = 50;

/**
 * A percentage field: empty (no rule), or a share for the API, or what is wrong.
 * @param {string} label
 * @param {string} raw
 * @returns {{ share: number | null, error?: string }}
 */
function percent(label, raw) {
  const text = raw.trim().replace(/%$/, "").trim();
  if (text === "") return { share: null };
  const n = Number(text);
  if (!Number.isFinite(n)) return { share: null, error: `${label} must be a number, e.g. 30.` };
  if (n <= 0) return { share: null, error: `${label} must be above 0.` };
  if (n > 100) return { share: null, error: `${label} must be at most 100.` };
  // 28.6 / 100 is 0.28600000000000003 in floating point: send the share the person typed.
  return { share: Number((n / 100).toPrecision(12)) };
}

/**
 * The stop-rule fields → the stopRules to send (null: none) and what is wrong, by field.
 * Only a rate makes a rule: a window alone is a mistake, as the server says.
 * @param {{ failure: string, voicemail: string, window: string }} fields
 */
export function readStopRules({ failure, voicemail, window }) {
  /** @type {{ failure?: string, voicemail?: string, window?: string }} */
  const errors = {};
  const f = percent("Max failure %", failure);
  const v = percent("Max voicemail %", voicemail);
  if (f.error) errors.failure = f.error;
  if (v.error) errors.voicemail = v.error;
  const w = window.trim() === "" ? DEFAULT_WINDOW : Number(window.trim());
  if (!Number.isInteger(w)) errors.window = "Window must be a whole number of attempts.";
  else if (w < 10) errors.window = "Window must be at least 10 attempts.";
  else if (w > 1000) errors.window = "Window must be at most 1000 attempts.";
  const anyRate = failure.trim() !== "" || voicemail.trim() !== "";
  if (!anyRate && !errors.window && w !== DEFAULT_WINDOW) {
    errors.window = "A window needs a max failure % or a max voicemail % (or both) to judge; leave all three as they are for no stop rules.";
  }
  if (Object.keys(errors).length || !anyRate) return { stopRules: null, errors };
  /** @type {{ maxFailureRate?: number, maxVoicemailRate?: number, window: number }} */
  const stopRules = { window: w };
  if (f.share !== null) stopRules.maxFailureRate = f.share;
  if (v.share !== null) stopRules.maxVoicemailRate = v.share;
  return { stopRules, errors };
}

/**
 * The pre-dial fields → the upload's preDialUrl and preDialOnError (none without a URL), or what is wrong.
 * @param {{ url: string, onError: string }} fields
 */
export function readPreDial({ url, onError }) {
  const text = url.trim();
  /** @type {Record<string, string>} */
  const fields = {};
  if (text === "") return { fields, error: null };
  let problem = null;
  if (text.length > 2048) problem = "Pre-dial URL is longer than 2048 characters.";
  else if (!URL.canParse(text)) problem = "Pre-dial URL is not a valid URL (e.g. https://example.com/pre-dial).";
  else {
    const parsed = new URL(text);
    // http is allowed by a local dev server only; the server says so if this one refuses it.
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") problem = "Pre-dial URL must use https.";
    else if (parsed.username || parsed.password)
      problem = "Pre-dial URL must not carry credentials (user:password@); verify requests with the signature instead.";
  }
  if (problem) return { fields, error: problem };
  fields.preDialUrl = text;
  fields.preDialOnError = onError === "dial" ? "dial" : "skip";
  return { fields, error: null };
}

/** The largest budget the server takes, in minutes. */
export const MAX_MINUTES = 1_000_000;

/**
 * The budget field → the upload's maxMinutes (null: no budget), or what is wrong.
 * @param {string} raw
 * @returns {{ maxMinutes: number | null, error: string | null }}
 */
export function readMaxMinutes(raw) {
  const text = raw.trim().replaceAll(",", "");
  if (text === "") return { maxMinutes: null, error: null };
  const n = Number(text);
  if (!Number.isInteger(n)) return { maxMinutes: null, error: "Budget must be a whole number of minutes, e.g. 500." };
  if (n < 1) return { maxMinutes: null, error: "Budget must be at least 1 minute." };
  if (n > MAX_MINUTES) return { maxMinutes: null, error: `Budget must be at most ${MAX_MINUTES.toLocaleString("en-US")} minutes.` };
  return { maxMinutes: n, error: null };
}
