import { describe, expect, it } from "vitest";
import { bucketName, MAX_BARS, rateBuckets } from "../../public/js/rate-buckets.js";

const T0 = Date.UTC(2025, 2, 12, 10, 0, 0);
const sec = (n: number) => T0 + n * 1000;
const min = (n: number) => T0 + n * 60_000;
const hour = (n: number) => T0 + n * 3600_000;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("the rate chart's buckets", () => {
  it("are seconds for a batch that ran under a minute: one bar a second, not one bar in all", () => {
    const b = rateBuckets([sec(0), sec(0.5), sec(3), sec(20), sec(40)])!;
    expect([b.unit, b.step]).toEqual(["second", 1]);
    expect(b.counts).toHaveLength(41);
    expect([b.counts[0], b.counts[3], b.counts[20], b.counts[40]]).toEqual([2, 1, 1, 1]);
    expect(sum(b.counts)).toBe(5);
    expect(b.starts[0]).toBe(sec(0));
    expect(b.starts[40]).toBe(sec(40));
    expect(bucketName(b)).toBe("second");
  });

  it("grow to 2, 5 or 10 seconds to stay within the bar cap while the span is up to two minutes", () => {
    const b = rateBuckets([sec(0), sec(100)])!;
    expect([b.unit, b.step]).toEqual(["second", 2]);
    expect(b.counts.length).toBeLessThanOrEqual(MAX_BARS);
    expect(bucketName(b)).toBe("2 seconds");
    expect(sum(b.counts)).toBe(2);
  });

  it("are minutes from past two minutes up to two hours", () => {
    const short = rateBuckets([sec(0), sec(150)])!;
    expect([short.unit, short.step, short.counts.length]).toEqual(["minute", 1, 3]);
    const half = rateBuckets([min(0), min(1), min(1), min(30)])!;
    expect([half.unit, half.step, half.counts.length]).toEqual(["minute", 1, 31]);
    expect(half.counts[1]).toBe(2);
    const long = rateBuckets([min(0), min(90)])!;
    expect([long.unit, long.step]).toEqual(["minute", 2]);
    expect(bucketName(long)).toBe("2 minutes");
  });

  it("are hours past two hours, growing with the span, and keep the latest bars past the cap", () => {
    const day = rateBuckets([hour(0), hour(5), hour(5.5)])!;
    expect([day.unit, day.step, day.counts]).toEqual(["hour", 1, [1, 0, 0, 0, 0, 2]]);
    expect(bucketName(day)).toBe("hour");
    const week = rateBuckets([hour(0), hour(24 * 7)])!;
    expect([week.unit, week.step]).toEqual(["hour", 3]);
    const months = rateBuckets([hour(0), hour(24 * 100), hour(24 * 100 + 1)])!;
    expect([months.unit, months.step, months.counts.length]).toEqual(["hour", 24, MAX_BARS]);
    // The first call is older than the bars kept; the last two share the last day.
    expect(months.counts.at(-1)).toBe(2);
    expect(sum(months.counts)).toBe(2);
  });

  it("start minutes and hours on the local clock", () => {
    const offset = 330 * 60_000; // +05:30
    const b = rateBuckets([hour(0), hour(4)], offset)!;
    expect(b.unit).toBe("hour");
    for (const start of b.starts) expect((start + offset) % 3600_000).toBe(0);
    // 10:00 UTC is 15:30 local: its hour began at 15:00 local, 09:30 UTC.
    expect(b.starts[0]).toBe(T0 - 30 * 60_000);
  });

  it("are none without a finished call", () => {
    expect(rateBuckets([])).toBeNull();
  });
});
