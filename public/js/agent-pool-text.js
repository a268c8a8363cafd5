// @ts-check
// What the agent pages say about a pool of numbers and read from its form. No DOM
// here: plain Node's tests run these too.

/** @typedef {{ strategy: "local" | "round_robin", perNumber: { callsPerSecond: number, maxCallsPerDay?: number } }} CallerId */

/**
 * The numbers typed into the form, one per line (commas and semicolons separate too). A line
 * that starts with + loses the spaces, dashes, dots and brackets people type ("+1 (415) 555-0100"),
 * so what is sent is E.164 when the person meant it; anything else is sent as typed, for the API to name.
 * @param {string} text
 * @returns {string[]}
 */
export function parseNumbers(text) {
  return text
    .split(/[\n,;]/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => (line.startsWith("+") ? line.replace(/[\s().-]/g, "") : line));
}

/**
 * The caller-id rules the form's fields give: null when it says "not set" and no limit is
 * typed (round-robin, no per-number limit); a limit alone means round-robin with that limit.
 * @param {{ strategy: string, callsPerSecond: string, maxCallsPerDay: string }} fields
 * @returns {CallerId | null}
 */
export function callerIdFrom({ strategy, callsPerSecond, maxCallsPerDay }) {
  const perSecond = callsPerSecond.trim();
  const perDay = maxCallsPerDay.trim();
  if (!strategy && !perSecond && !perDay) return null;
  /** @type {CallerId["perNumber"]} */
  const perNumber = { callsPerSecond: perSecond ? Number(perSecond) : 1 };
  if (perDay) perNumber.maxCallsPerDay = Number(perDay);
  return { strategy: strategy === "local" ? "local" : "round_robin", perNumber };
}

/**
 * The rules in a sentence, for the agent's pool panel.
 * @param {CallerId | null} callerId
 */
export function callerIdText(callerId) {
  if (!callerId) return "Caller ID: round-robin over the enabled numbers, no per-number limit (each call as fast as the workspace allows).";
  const { strategy, perNumber } = callerId;
  const how = strategy === "local" ? "a number with the person's area code, else their country, else any" : "round-robin over the enabled numbers";
  const day = perNumber.maxCallsPerDay ? ` and ${perNumber.maxCallsPerDay.toLocaleString()} a day` : "";
  return `Caller ID: ${how}; each number starts at most ${perNumber.callsPerSecond} call${perNumber.callsPerSecond === 1 ? "" : "s"} a second${day}.`;
}

/**
 * An answer rate (0…1, or null when nothing was placed) as "41.2%" or "—".
 * @param {number | null} rate
 */
export const fmtRate = (rate) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}%`);

/**
 * The API names a pool's bad number by its index (`fromNumbers.2: …`); the person typed lines,
 * so say the number instead.
 * @param {string} message
 * @param {string[]} sent the numbers sent, in order
 */
export function namingPoolNumbers(message, sent) {
  return message.replace(/\bfromNumbers\.(\d+)\b/g, (whole, i) => {
    const n = sent[Number(i)];
    return n === undefined ? whole : `From number "${n}"`;
  });
}
