/** A concurrency lease is one attempt of one call: the limiter counts it, the ledger frees it. */
export function leaseId(batchId: string, seq: number, attempt: number): string {
  return `${batchId}:${seq}:${attempt}`;
}
