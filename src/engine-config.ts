/** Engine timings, from Worker vars so an operator (or a test) can tune them. */
export type EngineConfig = {
  /** How long an active call may go without a final status before it is resolved as failed and its slot freed. */
  callLeaseMs: number;
  /** How long a reserved slot waits for its dial to start before it lapses. */
  reserveTtlMs: number;
  /** A dispatched job not claimed within this long is treated as lost and dispatched again. */
  dispatchStaleMs: number;
  /** While calls are in flight, the scheduler looks at the batch at least this often, even if no call-ended poke arrives. */
  heartbeatMs: number;
};

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallback * 1000;
}

export function engineConfig(env: Pick<Env, "CALL_LEASE_SECONDS" | "DISPATCH_STALE_SECONDS">): EngineConfig {
  const callLeaseMs = seconds(env.CALL_LEASE_SECONDS, 3600);
  const dispatchStaleMs = seconds(env.DISPATCH_STALE_SECONDS, 300);
  return { callLeaseMs, reserveTtlMs: dispatchStaleMs, dispatchStaleMs, heartbeatMs: 60_000 };
}
