import { describe, expect, it } from "vitest";
import { MAX_OVERDUE_BACKOFF_MS, MIN_WAKE_GAP_MS, nextWake, OVERDUE_BACKOFF_MS, type WakeInput } from "../../src/domain/wake";

const NOW = 1_000_000;

function input(overrides: Partial<WakeInput> = {}): WakeInput {
  return {
    now: NOW,
    callbackDue: null,
    leaseExpires: null,
    oldestDispatch: null,
    dispatchStaleMs: 300_000,
    moreDue: false,
    retryAfterMs: 1_000,
    anyActive: false,
    heartbeatMs: 60_000,
    summaryBehind: false,
    summaryFlushMs: 1_000,
    releasesPending: false,
    idleTicks: 0,
    ...overrides,
  };
}

describe("nextWake", () => {
  it("sleeps for good when nothing can happen", () => {
    expect(nextWake(input())).toBeNull();
  });

  it("wakes for the earliest of callbacks, leases and stale dispatches", () => {
    expect(nextWake(input({ callbackDue: NOW + 5_000, leaseExpires: NOW + 3_000 }))).toBe(NOW + 3_000);
    expect(nextWake(input({ callbackDue: NOW + 5_000, oldestDispatch: NOW - 299_000 }))).toBe(NOW + 1_000);
  });

  it("looks again after retryAfterMs while more calls are due", () => {
    expect(nextWake(input({ moreDue: true, retryAfterMs: 250, callbackDue: NOW + 5_000 }))).toBe(NOW + 250);
  });

  it("keeps a heartbeat while calls are in flight, and flushes a summary that is behind", () => {
    expect(nextWake(input({ anyActive: true }))).toBe(NOW + 60_000);
    expect(nextWake(input({ anyActive: true, summaryBehind: true }))).toBe(NOW + 1_000);
  });

  it("never wakes in the past, nor sooner than the minimum gap", () => {
    expect(nextWake(input({ callbackDue: NOW - 60_000 }))).toBe(NOW + OVERDUE_BACKOFF_MS);
    expect(nextWake(input({ releasesPending: true }))).toBe(NOW + MIN_WAKE_GAP_MS);
    expect(nextWake(input({ moreDue: true, retryAfterMs: 0 }))).toBe(NOW + MIN_WAKE_GAP_MS);
  });

  it("backs off from overdue work it could not do, doubling per idle tick up to a cap", () => {
    // A lost job's stale time, a callback the limiter refused, a lease already run out: all overdue.
    const overdue = [{ callbackDue: NOW - 1 }, { leaseExpires: NOW - 5_000 }, { oldestDispatch: NOW - 400_000 }];
    for (const o of overdue) {
      const gaps = [0, 1, 2, 3, 10].map((idleTicks) => nextWake(input({ ...o, idleTicks }))! - NOW);
      expect(gaps).toEqual([100, 200, 400, 800, MAX_OVERDUE_BACKOFF_MS]);
      for (const g of gaps) expect(g).toBeGreaterThanOrEqual(MIN_WAKE_GAP_MS);
    }
  });

  it("lets a future event or a poke-worthy retry come before the overdue backoff", () => {
    expect(nextWake(input({ callbackDue: NOW - 1, leaseExpires: NOW + 50, idleTicks: 5 }))).toBe(NOW + 50);
    expect(nextWake(input({ callbackDue: NOW - 1, moreDue: true, retryAfterMs: 30, idleTicks: 5 }))).toBe(NOW + 30);
  });
});
