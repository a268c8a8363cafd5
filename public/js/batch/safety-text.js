// @ts-check
// What the batch page says about a batch's brakes and states: its stop rules and pre-dial check
// in the options line, a draft's status, and the banner of a paused batch (why it paused and
// what Resume will do). No DOM here: plain Node tests the sentences.

/** @typedef {import("../types.js").Batch} Batch */
/** @typedef {import("../types.js").BatchStatusName} BatchStatusName */
/** @typedef {NonNullable<Batch["stopRules"]>} StopRules */

/**
 * A share as a percentage: 0.3 → "30%", 0.125 → "12.5%".
 * @param {number} share
 */
export const pct = (share) => `${Number((share * 100).toPrecision(12))}%`;

/**
 * The status line's word for a status: a draft says it has not started.
 * @param {BatchStatusName} status
 */
export const statusLabel = (status) => (status === "draft" ? "Draft — not started" : status);

/**
 * "pauses itself if over 30% of the last 50 attempts fail at the carrier or over 60% go to voicemail".
 * @param {StopRules} rules
 */
export function stopRulesText(rules) {
  const parts = [];
  if (rules.maxFailureRate !== undefined) parts.push(`over ${pct(rules.maxFailureRate)} of the last ${rules.window} attempts fail at the carrier`);
  if (rules.maxVoicemailRate !== undefined) {
    parts.push(`over ${pct(rules.maxVoicemailRate)} ${parts.length ? "" : `of the last ${rules.window} attempts `}go to voicemail`);
  }
  return `pauses itself if ${parts.join(" or ")}`;
}

/**
 * "asks https://… before each dial (if it fails: skip the call)".
 * @param {NonNullable<Batch["preDial"]>} preDial
 */
export const preDialText = (preDial) => `asks ${preDial.url} before each dial (if it fails: ${preDial.onError === "dial" ? "dial anyway" : "skip the call"})`;

/**
 * What Resume does after a rule paused the batch: it runs on, and its rules start a new window.
 * @param {StopRules | null} rules
 */
const afresh = (rules) =>
  rules
    ? `Resume continues the batch; the rule then judges the next ${rules.window} attempts afresh.`
    : "Resume continues the batch; its rules then judge the next attempts afresh.";

/**
 * The paused banner: why the batch paused and what Resume will do (null when it is not paused).
 * The window's own figures (how many of them failed) are in the batch.paused webhook only,
 * so a rule's banner says the limit it passed.
 * @param {BatchStatusName} status
 * @param {string | null | undefined} reason the status body's pausedReason
 * @param {StopRules | null | undefined} rules the batch's stopRules
 * @param {{ billedMinutes?: number | null, maxMinutes?: number | null }} [budget] the batch's billedMinutes and maxMinutes, for a budget pause
 */
export function pausedText(status, reason, rules, budget) {
  if (status !== "paused") return null;
  const r = rules ?? null;
  if (reason === "budget") {
    const used =
      typeof budget?.billedMinutes === "number" && typeof budget?.maxMinutes === "number"
        ? `its calls have billed ${budget.billedMinutes} of its ${budget.maxMinutes} minutes`
        : "its calls have billed the minutes its budget allows";
    return `Paused by its budget: ${used}. Resume is refused until you raise Max minutes (Edit) above what is billed, or clear it; raising it does not resume the batch by itself.`;
  }
  if (reason === "failure_rate") {
    const what =
      r?.maxFailureRate !== undefined ? `more than ${pct(r.maxFailureRate)} of the last ${r.window} attempts failed` : "too many recent attempts failed";
    return `Paused by its stop rule: ${what} (carrier failures, not no-answer or busy). ${afresh(r)}`;
  }
  if (reason === "voicemail_rate") {
    const what =
      r?.maxVoicemailRate !== undefined
        ? `more than ${pct(r.maxVoicemailRate)} of the last ${r.window} attempts went to voicemail`
        : "too many recent attempts went to voicemail";
    return `Paused by its stop rule: ${what}. ${afresh(r)}`;
  }
  // A reason this page does not know yet still says that the batch is paused and why.
  if (reason && reason !== "manual") return `Paused (${reason.replaceAll("_", " ")}). Resume continues the batch.`;
  return "Paused. Resume continues where it stopped.";
}
