import { describe, expect, it } from "vitest";
import {
  ADMIT_MAX,
  ADMIT_MIN,
  ADMIT_START,
  ADMIT_TARGET_MS,
  admissionRoom,
  allowanceFor,
  ClaimRate,
  queueBusy,
  queueCongested,
  SLOW_CLAIM_MS,
} from "../../src/domain/admission";

describe("a batch's allowance on the shared queue", () => {
  it("is one slice until a claim is seen, then about ADMIT_TARGET_MS of the claim rate, within its floor and ceiling", () => {
    expect(allowanceFor(null)).toBe(ADMIT_START);
    expect(allowanceFor(1_000)).toBe(Math.ceil((1_000 * ADMIT_TARGET_MS) / 1000));
    expect(allowanceFor(0)).toBe(ADMIT_MIN);
    expect(allowanceFor(3)).toBe(ADMIT_MIN);
    expect(allowanceFor(10_000_000)).toBe(ADMIT_MAX);
  });

  it("counts claims over the last second, over the time since the first claim right after it (at least 100 ms)", () => {
    const rate = new ClaimRate();
    expect(rate.perSecond(0)).toBeNull();
    rate.note(50, 1_000);
    expect(rate.perSecond(1_000)).toBe(500); // 50 over the 100 ms floor
    expect(rate.perSecond(1_250)).toBe(200); // 50 over 250 ms
    rate.note(150, 1_500);
    expect(rate.perSecond(1_900)).toBeCloseTo(222.2, 1); // 200 over the 900 ms since the first
    expect(rate.perSecond(2_200)).toBe(150); // the first 50 have left the window
    expect(rate.perSecond(10_000)).toBe(0); // claims stopped: the floor, not nothing
    rate.note(0, 10_000);
    expect(rate.perSecond(10_000)).toBe(0);
  });

  it("before its first claim admits one slice, or the floor while the shared queue is busy (a slice's worth queued, or a message older than the target)", () => {
    const now = 1_000_000;
    expect(queueBusy(null, now)).toBe(false);
    expect(queueBusy({ backlogCount: 0 }, now)).toBe(false);
    expect(queueBusy({ backlogCount: 40, oldestMessageTimestamp: new Date(now - 100) }, now)).toBe(false);
    expect(queueBusy({ backlogCount: ADMIT_START }, now)).toBe(true);
    expect(queueBusy({ backlogCount: 5, oldestMessageTimestamp: now - ADMIT_TARGET_MS - 1 }, now)).toBe(true);
    expect(allowanceFor(null, true)).toBe(ADMIT_MIN);
    expect(allowanceFor(null, false)).toBe(ADMIT_START);
    // Once claims are seen, their pace decides, busy or not.
    expect(allowanceFor(1_000, true)).toBe(500);
  });

  it("calls the queue congested once its oldest job has waited past the target and the batch's own latest claims were slow, however few it holds", () => {
    const now = 1_000_000;
    const slow = ADMIT_TARGET_MS + 200;
    expect(queueCongested(null, now, slow)).toBe(false);
    expect(queueCongested({ backlogCount: 0, oldestMessageTimestamp: now - 10_000 }, now, slow)).toBe(false);
    // Many jobs, all young: a fast queue, not a congested one.
    expect(queueCongested({ backlogCount: 5_000, oldestMessageTimestamp: new Date(now - 100) }, now, slow)).toBe(false);
    expect(queueCongested({ backlogCount: 5_000 }, now, slow)).toBe(false);
    expect(queueCongested({ backlogCount: 3, oldestMessageTimestamp: now - ADMIT_TARGET_MS }, now, slow)).toBe(false);
    const old = { backlogCount: 3, oldestMessageTimestamp: now - ADMIT_TARGET_MS - 1 };
    expect(queueCongested(old, now, slow)).toBe(true);
    expect(queueCongested({ backlogCount: 3, oldestMessageTimestamp: "not a time" }, now, slow)).toBe(false);
    // An old message while the batch's own jobs flow (one held back for a delayed retry, say): not congested.
    expect(queueCongested(old, now, SLOW_CLAIM_MS + 1)).toBe(true);
    expect(queueCongested(old, now, SLOW_CLAIM_MS)).toBe(false);
    expect(queueCongested(old, now, 20)).toBe(false);
    expect(queueCongested(old, now, null)).toBe(false);
  });

  it("remembers how long the latest claimed jobs had waited, for a second", () => {
    const rate = new ClaimRate();
    expect(rate.lastWait(0)).toBeNull();
    rate.note(10, 1_000, 700);
    expect(rate.lastWait(1_000)).toBe(700);
    rate.note(5, 1_200); // not known: the last known stays
    expect(rate.lastWait(1_500)).toBe(700);
    rate.note(10, 1_400, 30);
    expect(rate.lastWait(1_500)).toBe(30);
    expect(rate.lastWait(2_400)).toBeNull();
  });

  it("leaves room for what the allowance does not already have on the queue", () => {
    expect(admissionRoom(200, 150)).toBe(50);
    expect(admissionRoom(200, 200)).toBe(0);
    expect(admissionRoom(100, 250)).toBe(0);
  });

  it("keeps the jobs waiting about ADMIT_TARGET_MS whatever the load (Little's law): 9 batches sharing 120 claims a second keep ~60 queued", () => {
    const perBatch = 120 / 9;
    const queued = 9 * allowanceFor(perBatch);
    expect(queued).toBe(9 * ADMIT_MIN);
    expect(queued / 120).toBeLessThan(1);
    // Alone at 1,000 a second: 500 queued, half a second of its pace.
    expect(allowanceFor(1_000) / 1_000).toBe(ADMIT_TARGET_MS / 1000);
  });
});
