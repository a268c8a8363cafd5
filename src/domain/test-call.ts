/**
 * A test call: one call of a draft or paused batch to the operator's own
 * number, with the variables of one of its rows. It lives in the batch's
 * object beside the batch's calls but outside them (their counters, exports,
 * stop rules and limiter never see it); its seq starts at TEST_SEQ_BASE, so
 * its callId (`call_<batch hex>_<seq>`) is a call id like any other and every
 * path that addresses a call by id (status webhooks, the simulated carrier,
 * the result routes) reaches the batch's object, which tells it apart by seq.
 */

/** Test call n of a batch has seq TEST_SEQ_BASE + n (n = 1, 2, …): above any batch's rows (a file holds far fewer), within parseCallId's nine digits. */
export const TEST_SEQ_BASE = 900_000_000;

/** Test calls one batch may place: enough to try a prompt, too few to run a campaign outside its counters. */
export const MAX_TEST_CALLS = 20;

/** The batch states a test call may be placed from: nothing of the batch is dialling. */
export const TEST_CALL_STATES = ["draft", "paused"] as const;

export function isTestSeq(seq: number): boolean {
  return seq >= TEST_SEQ_BASE;
}
