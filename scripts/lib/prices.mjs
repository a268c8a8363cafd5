// @ts-check
/**
 * The platform's published prices (Workers Paid, usage beyond the monthly
 * inclusions) that turn the bench's counted operations into dollars, each
 * with the page it comes from: the one place they live (docs/scaling.md,
 * "Cost per call", quotes them with the same sources). Read on 2026-12-02.
 *
 * Only what a call uses on the production path is priced: the simulated
 * carrier never runs in production and is left out. Not counted by the
 * bench, so not in the bill: Worker CPU time ($0.02 per million CPU ms) and
 * Durable Object duration ($12.50 per million GB-s), which need the
 * deployed platform's analytics; D1 rows (the bench counts D1 statements,
 * priced here as D1_ROWS_PER_STATEMENT rows written each: an upper bound).
 */

/** @typedef {{ usd: number, per: number, unit: string, source: string }} Price */

export const PRICES = {
  /** @type {Price} */
  workerRequest: {
    usd: 0.3,
    per: 1e6,
    unit: "Worker request (HTTP request or queue consumer invocation)",
    source: "https://developers.cloudflare.com/workers/platform/pricing/",
  },
  /** @type {Price} */
  doRequest: {
    usd: 0.15,
    per: 1e6,
    unit: "Durable Object request (each RPC method call on a stub, each alarm)",
    source: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  },
  /** @type {Price} */
  doRowWritten: {
    usd: 1.0,
    per: 1e6,
    unit: "Durable Object SQLite row written (index rows included)",
    source: "https://developers.cloudflare.com/durable-objects/platform/pricing/#sqlite-storage-backend",
  },
  /** @type {Price} */
  doRowRead: {
    usd: 0.001,
    per: 1e6,
    unit: "Durable Object SQLite row read",
    source: "https://developers.cloudflare.com/durable-objects/platform/pricing/#sqlite-storage-backend",
  },
  /** @type {Price} */
  queueOperation: {
    usd: 0.4,
    per: 1e6,
    unit: "Queues operation (64 KB written, read or deleted; 3 per delivered message)",
    source: "https://developers.cloudflare.com/queues/pricing/",
  },
  /** @type {Price} */
  d1RowWritten: {
    usd: 1.0,
    per: 1e6,
    unit: "D1 row written",
    source: "https://developers.cloudflare.com/d1/platform/pricing/",
  },
};

/**
 * Twilio's outbound voice minute to a US number (pay-as-you-go, before volume discounts): the
 * telephony a call pays besides the platform. Twilio's own worked example of its US pricing.
 */
export const TELEPHONY = {
  usdPerMinute: 0.013,
  unit: "Twilio outbound voice minute to a US number",
  source: "https://support.twilio.com/hc/en-us/articles/223183328-How-Volume-Pricing-works-at-Twilio",
};

/** Rows a D1 statement is priced at when only statements are counted: an upper bound for this engine's summary upserts. */
export const D1_ROWS_PER_STATEMENT = 4;

/**
 * @param {number | null | undefined} n
 * @param {number} digits
 */
const round = (n, digits) => (n === null || n === undefined || !Number.isFinite(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/**
 * The platform's bill per 1,000 calls from per-call operation counts: each item's count × its
 * price, and the sum. A count that was not measured (null) adds nothing and is listed in `missing`.
 * @param {{ doRowsWrittenPerCall: number | null, doRowsReadPerCall: number | null, doRequestsPerCall: number | null, queueOperationsPerCall: number | null, workerRequestsPerCall: number | null, d1StatementsPerCall: number | null }} perCall
 */
export function usdPer1000Calls(perCall) {
  /** @type {[keyof typeof perCall, Price, number][]} */
  const items = [
    ["doRowsWrittenPerCall", PRICES.doRowWritten, 1],
    ["doRowsReadPerCall", PRICES.doRowRead, 1],
    ["doRequestsPerCall", PRICES.doRequest, 1],
    ["queueOperationsPerCall", PRICES.queueOperation, 1],
    ["workerRequestsPerCall", PRICES.workerRequest, 1],
    ["d1StatementsPerCall", PRICES.d1RowWritten, D1_ROWS_PER_STATEMENT],
  ];
  /** @type {Record<string, number>} */
  const breakdown = {};
  /** @type {string[]} */
  const missing = [];
  let total = 0;
  for (const [name, price, factor] of items) {
    const n = perCall[name];
    if (n === null || n === undefined) {
      missing.push(name);
      continue;
    }
    const usd = ((n * factor * 1000) / price.per) * price.usd;
    breakdown[name] = /** @type {number} */ (round(usd, 6));
    total += usd;
  }
  return { usdPer1000Calls: round(total, 5), breakdown, missing };
}

/**
 * The platform's cost of a call against its telephony: a call of `minutes` minutes costs
 * `minutes × TELEPHONY.usdPerMinute` at the carrier; the ratio is the platform's share of that.
 * @param {number | null} usdPer1000
 * @param {number} [minutes]
 */
export function againstTelephony(usdPer1000, minutes = 1) {
  const telephonyPer1000 = minutes * TELEPHONY.usdPerMinute * 1000;
  return { minutes, telephonyUsdPer1000Calls: round(telephonyPer1000, 2), platformShare: usdPer1000 === null ? null : round(usdPer1000 / telephonyPer1000, 5) };
}
