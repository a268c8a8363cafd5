import * as z from "zod";

// The words every layer shares: how an attempt ended, how a call is placed,
// and the lifecycles of a batch and of a call. The API schemas, the ledger,
// the providers and the rules all spell them from here.

/** How one dial attempt ended, as the API, the webhooks and the call ledger spell it. */
export const OUTCOMES = ["answered", "voicemail", "no_answer", "busy", "failed", "canceled"] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;

/**
 * What a call's `outcome` may show: its last attempt's outcome, or
 * `callback_requested` while an attempt the recipient asked for on a call waits.
 */
export const CALL_OUTCOMES = [...OUTCOMES, "callback_requested"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** How a person on a call felt about it, as an agent reports it. */
export const SENTIMENTS = ["positive", "neutral", "negative"] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** What earns another attempt when a batch's smart callbacks leave retryOn out, and what a new pass dials again. */
export const RETRYABLE_OUTCOMES = OutcomeSchema.extract(["no_answer", "busy", "failed"]).options;

/** What retryOn may name: an answered or cancelled call is never dialled again, a voicemail may be. */
export const RetryOnSchema = OutcomeSchema.extract([...RETRYABLE_OUTCOMES, "voicemail"]);

/** How an agent's calls are placed: the built-in simulated carrier, Twilio's Calls API, or the tenant's own dialer over signed webhooks. */
export const PROVIDERS = ["simulated", "twilio", "webhook"] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export type Provider = z.infer<typeof ProviderSchema>;

/**
 * A batch's lifecycle as clients see it (D1 also has 'preparing', which no read path shows).
 * A `draft` (uploaded with start=false) is stored and counted but dials nothing until it is started or cancelled.
 */
export const BATCH_STATUSES = ["draft", "queued", "processing", "paused", "completed", "cancelled", "failed"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** Batch states after which nothing changes any more. */
export const FINAL_STATUSES: ReadonlySet<BatchStatus> = new Set<BatchStatus>(["completed", "cancelled", "failed"]);

/** A call's lifecycle, as the API reports it and the ledger stores it. */
export const CALL_STATUSES = ["waiting", "active", "completed", "failed", "cancelled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
