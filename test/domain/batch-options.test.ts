import { describe, expect, it } from "vitest";
import { BatchFormFieldsSchema, MAX_SCHEDULE_AHEAD_DAYS, parseBatchOptions, parseScheduledAt } from "../../src/domain/batch-options";

const NOW = new Date("2026-03-10T12:00:00Z");

function scheduled(scheduledAt: string) {
  const r = parseBatchOptions(BatchFormFieldsSchema.parse({ agentId: "agent_x", scheduledAt }), NOW);
  return r.ok ? { ok: true as const, at: r.value.scheduledAt?.toISOString() } : { ok: false as const, ...r.error };
}

describe("parseScheduledAt", () => {
  it.each([
    ["30 February", "2027-02-30T10:00:00Z"],
    ["31 April", "2026-04-31T10:00:00Z"],
    ["31 June", "2026-06-31T10:00:00Z"],
    ["29 February in a non-leap year", "2027-02-29T10:00:00Z"],
    ["29 February in a century that is not a leap year", "2100-02-29T10:00:00Z"],
    ["month 13", "2026-13-01T10:00:00Z"],
    ["month 00", "2026-00-10T10:00:00Z"],
    ["day 00", "2026-05-00T10:00:00Z"],
  ])("refuses a date that does not exist: %s", (_name, s) => {
    const r = parseScheduledAt(s);
    expect(r).toEqual({ ok: false, message: expect.stringContaining("does not exist") });
    expect(r.ok ? "" : r.message).toContain(s.slice(0, 10));
  });

  it.each([
    ["hour 24", "2026-05-01T24:00:00Z"],
    ["minute 60", "2026-05-01T10:60:00Z"],
    ["second 60", "2026-05-01T10:00:60Z"],
  ])("refuses a time of day that does not exist: %s", (_name, s) => {
    expect(parseScheduledAt(s)).toEqual({ ok: false, message: expect.stringContaining("00-23") });
  });

  it("refuses an impossible zone offset", () => {
    expect(parseScheduledAt("2026-05-01T10:00:00+24:00")).toEqual({ ok: false, message: expect.stringContaining("offset") });
    expect(parseScheduledAt("2026-05-01T10:00:00+05:60")).toEqual({ ok: false, message: expect.stringContaining("offset") });
  });

  it("accepts real dates, leap days included, with Z or an offset", () => {
    const at = (s: string) => {
      const r = parseScheduledAt(s);
      return r.ok ? r.value.toISOString() : r.message;
    };
    expect(at("2028-02-29T23:59:59Z")).toBe("2028-02-29T23:59:59.000Z");
    expect(at("2000-02-29T00:00:00Z")).toBe("2000-02-29T00:00:00.000Z");
    expect(at("2026-04-30T10:00Z")).toBe("2026-04-30T10:00:00.000Z");
    expect(at("2026-12-31T23:30:00.250-05:00")).toBe("2027-01-01T04:30:00.250Z");
  });
});

describe("parseBatchOptions scheduledAt", () => {
  it("refuses a date that does not exist instead of moving it", () => {
    expect(scheduled("2026-04-31T10:00:00Z")).toMatchObject({ ok: false, code: "invalid_scheduled_at" });
  });

  it(`accepts up to ${MAX_SCHEDULE_AHEAD_DAYS} days ahead and refuses beyond, naming the latest start`, () => {
    const latest = new Date(NOW.getTime() + MAX_SCHEDULE_AHEAD_DAYS * 86_400_000);
    expect(scheduled(latest.toISOString())).toEqual({ ok: true, at: latest.toISOString() });
    const beyond = scheduled(new Date(latest.getTime() + 1000).toISOString());
    expect(beyond).toEqual({ ok: false, code: "invalid_scheduled_at", message: expect.stringContaining(`more than ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`) });
    expect(beyond.ok ? "" : beyond.message).toContain("2027-03-10T12:00:00Z");
    expect(scheduled("9999-12-31T23:59:59Z")).toMatchObject({ ok: false, code: "invalid_scheduled_at" });
  });

  it("still refuses the past and accepts an absent time", () => {
    expect(scheduled("2026-03-10T11:59:59Z")).toMatchObject({ ok: false, message: expect.stringContaining("past") });
    expect(scheduled("")).toEqual({ ok: true, at: undefined });
  });
});
