/** A call's lifecycle, as the API reports it and the ledger stores it. */
export const CALL_STATUSES = ["waiting", "active", "completed", "failed", "cancelled"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
