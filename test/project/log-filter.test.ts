import { describe, expect, it } from "vitest";
import { isInfoLog } from "../log-filter";

describe("the test run's console filter", () => {
  const info = (event: string) => JSON.stringify({ level: "info", event, time: "2026-01-01T00:00:00Z" });

  it("drops the Worker's info lines, one or several to a chunk", () => {
    expect(isInfoLog(info("request"))).toBe(true);
    expect(isInfoLog(`${info("request")}\n${info("batch.created")}\n`)).toBe(true);
  });

  it("keeps warnings, errors, a chunk with any of them, and anything else a test prints", () => {
    expect(isInfoLog(JSON.stringify({ level: "warn", event: "x" }))).toBe(false);
    expect(isInfoLog(JSON.stringify({ level: "error", event: "x" }))).toBe(false);
    expect(isInfoLog(`${info("request")}\n${JSON.stringify({ level: "error", event: "x" })}`)).toBe(false);
    expect(isInfoLog("debugging: 42")).toBe(false);
    expect(isInfoLog("")).toBe(false);
  });
});
