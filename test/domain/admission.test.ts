import { describe, expect, it } from "vitest";
import { ADMIT_MAX, ADMIT_MIN, ADMIT_TARGET_MS, admissionRoom, nextAdmission } from "../../src/domain/admission";

describe("a batch's allowance on the shared queue", () => {
  it("doubles while its jobs are claimed quickly (or none waits), up to the most any workspace could start", () => {
    expect(nextAdmission(ADMIT_MIN, null)).toBe(ADMIT_MIN * 2);
    expect(nextAdmission(400, ADMIT_TARGET_MS / 2)).toBe(800);
    expect(nextAdmission(ADMIT_MAX, 0)).toBe(ADMIT_MAX);
  });

  it("halves once its oldest job has waited past the target, never below one slice", () => {
    expect(nextAdmission(800, ADMIT_TARGET_MS + 1)).toBe(400);
    expect(nextAdmission(ADMIT_MIN, 60_000)).toBe(ADMIT_MIN);
    expect(nextAdmission(ADMIT_MIN + 1, ADMIT_TARGET_MS * 4)).toBe(ADMIT_MIN);
  });

  it("holds between half the target and the target", () => {
    expect(nextAdmission(300, ADMIT_TARGET_MS)).toBe(300);
    expect(nextAdmission(300, ADMIT_TARGET_MS / 2 + 1)).toBe(300);
  });

  it("leaves room for what the allowance does not already have on the queue", () => {
    expect(admissionRoom(200, 150)).toBe(50);
    expect(admissionRoom(200, 200)).toBe(0);
    expect(admissionRoom(100, 250)).toBe(0);
  });

  it("under sustained overload settles at the floor, and recovers once the queue drains", () => {
    let a = ADMIT_MAX;
    for (let i = 0; i < 20; i++) a = nextAdmission(a, ADMIT_TARGET_MS * 3);
    expect(a).toBe(ADMIT_MIN);
    for (let i = 0; i < 20; i++) a = nextAdmission(a, 10);
    expect(a).toBe(ADMIT_MAX);
  });
});
