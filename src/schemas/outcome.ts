import * as z from "zod";

/** How one dial attempt ended, as the API, the webhooks and the call ledger spell it. */
export const OUTCOMES = ["answered", "voicemail", "no_answer", "busy", "failed", "canceled"] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;

/** What earns another attempt when a batch's smart callbacks leave retryOn out, and what a new pass dials again. */
export const RETRYABLE_OUTCOMES = OutcomeSchema.extract(["no_answer", "busy", "failed"]).options;

/** What retryOn may name: an answered or cancelled call is never dialled again, a voicemail may be. */
export const RetryOnSchema = OutcomeSchema.extract([...RETRYABLE_OUTCOMES, "voicemail"]);
