import { describe, expect, it } from "vitest";
import { MIN_WAKE_GAP_MS, nextWake, type WakeInput } from "../../src/domain/wake";

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
    expect(nextWake(input({ callbackDue: NOW - 60_000 }))).toBe(NOW + MIN_WAKE_GAP_MS);
    expect(nextWake(input({ releasesPending: true }))).toBe(NOW + MIN_WAKE_GAP_MS);
    expect(nextWake(input({ moreDue: true, retryAfterMs: 0 }))).toBe(NOW + MIN_WAKE_GAP_MS);
  });
});
