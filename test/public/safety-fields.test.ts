import { describe, expect, it } from "vitest";
import { readPreDial, readStopRules } from "../../public/js/new-batch/safety-fields.js";
import { parseBatchOptions } from "../../src/domain/batch-options";
import { StopRulesSchema } from "../../src/domain/stop-rules";
import { tenantUrlProblem } from "../../src/lib/url-policy";

const NOW = new Date("2026-03-01T12:00:00Z");
const rules = (failure: string, voicemail = "", window = "50") => readStopRules({ failure, voicemail, window });

describe("the New batch form's stop rules", () => {
  it("send nothing when no rate is given, whatever the default window says", () => {
    expect(rules("", "", "50")).toEqual({ stopRules: null, errors: {} });
    expect(rules("", "", "")).toEqual({ stopRules: null, errors: {} });
  });

  it("turn percentages into the API's shares, with the window (50 when left empty)", () => {
    expect(rules("30", "60", "50").stopRules).toEqual({ maxFailureRate: 0.3, maxVoicemailRate: 0.6, window: 50 });
    expect(rules("30%", "", "").stopRules).toEqual({ maxFailureRate: 0.3, window: 50 });
    expect(rules("", " 12.5 ", "200").stopRules).toEqual({ maxVoicemailRate: 0.125, window: 200 });
    // 28.6 / 100 is 0.28600000000000003 in floating point: the share sent is the one typed.
    expect(rules("28.6").stopRules?.maxFailureRate).toBe(0.286);
    expect(rules("100").stopRules?.maxFailureRate).toBe(1);
  });

  it("name each wrong field in the form's words", () => {
    expect(rules("0").errors).toEqual({ failure: "Max failure % must be above 0." });
    expect(rules("-5").errors).toEqual({ failure: "Max failure % must be above 0." });
    expect(rules("101").errors).toEqual({ failure: "Max failure % must be at most 100." });
    expect(rules("thirty").errors).toEqual({ failure: "Max failure % must be a number, e.g. 30." });
    expect(rules("", "abc").errors).toEqual({ voicemail: "Max voicemail % must be a number, e.g. 30." });
    expect(rules("30", "", "9").errors).toEqual({ window: "Window must be at least 10 attempts." });
    expect(rules("30", "", "1001").errors).toEqual({ window: "Window must be at most 1000 attempts." });
    expect(rules("30", "", "12.5").errors).toEqual({ window: "Window must be a whole number of attempts." });
    expect(rules("0", "200", "5").errors).toEqual({
      failure: "Max failure % must be above 0.",
      voicemail: "Max voicemail % must be at most 100.",
      window: "Window must be at least 10 attempts.",
    });
    for (const wrong of [rules("0"), rules("30", "", "9")]) expect(wrong.stopRules).toBeNull();
  });

  it("refuse a changed window without a rate, as the server does (a window alone judges nothing)", () => {
    expect(rules("", "", "100").errors.window).toMatch(/^A window needs a max failure % or a max voicemail %/);
    expect(StopRulesSchema.safeParse({ window: 100 }).success).toBe(false);
  });

  it("send what the server accepts, and refuse what it refuses", () => {
    const percents = ["", "0", "0.5", "1", "30", "99.9", "100", "100.1", "-1", "x"];
    const windows = ["", "9", "10", "50", "1000", "1001", "20.5"];
    for (const failure of percents) {
      for (const voicemail of ["", "60", "0"]) {
        for (const window of windows) {
          const form = readStopRules({ failure, voicemail, window });
          const anyRate = failure !== "" || voicemail !== "";
          const asServerGets: Record<string, unknown> = { window: window === "" ? 50 : Number(window) };
          if (failure !== "") asServerGets.maxFailureRate = Number(failure) / 100;
          if (voicemail !== "") asServerGets.maxVoicemailRate = Number(voicemail) / 100;
          const server = StopRulesSchema.safeParse(asServerGets);
          const label = JSON.stringify({ failure, voicemail, window });
          if (form.stopRules) {
            expect(server.success, label).toBe(true);
            expect(StopRulesSchema.parse(form.stopRules), label).toEqual(form.stopRules);
          } else if (anyRate) expect(server.success, label).toBe(false);
          expect(Object.keys(form.errors).length > 0, label).toBe(anyRate ? !server.success : window !== "" && window !== "50");
        }
      }
    }
  });
});

describe("the New batch form's pre-dial check", () => {
  const check = (url: string, onError = "skip") => readPreDial({ url, onError });

  it("sends nothing without a URL (the server refuses preDialOnError alone)", () => {
    expect(check("", "dial")).toEqual({ fields: {}, error: null });
    expect(check("   ")).toEqual({ fields: {}, error: null });
  });

  it("sends the URL and what a failed check decides", () => {
    expect(check(" https://example.com/pre-dial ")).toEqual({ fields: { preDialUrl: "https://example.com/pre-dial", preDialOnError: "skip" }, error: null });
    expect(check("https://example.com/pre-dial", "dial").fields).toEqual({ preDialUrl: "https://example.com/pre-dial", preDialOnError: "dial" });
  });

  it("names what is wrong with a URL in the server's words", () => {
    expect(check("example.com/pre-dial").error).toBe("Pre-dial URL is not a valid URL (e.g. https://example.com/pre-dial).");
    expect(check("ftp://example.com/x").error).toBe("Pre-dial URL must use https.");
    expect(check("https://user:pw@example.com/x").error).toBe(
      "Pre-dial URL must not carry credentials (user:password@); verify requests with the signature instead.",
    );
    expect(check(`https://example.com/${"a".repeat(2040)}`).error).toBe("Pre-dial URL is longer than 2048 characters.");
    for (const url of ["example.com", "ftp://example.com/x", "https://u:p@example.com/"]) expect(check(url).fields).toEqual({});
  });

  it("refuses only what every server refuses (a local dev server takes http)", () => {
    const urls = ["https://example.com/x", "http://localhost:8788/x", "ftp://example.com/x", "not a url", "https://u:p@example.com/", "mailto:a@b.c"];
    for (const url of urls) {
      const form = check(url);
      const parsed = parseBatchOptions({ agentId: "agent_1", preDialUrl: url }, NOW);
      const server = parsed.ok ? tenantUrlProblem("preDialUrl", url, { ENVIRONMENT: "development" }) : parsed.error.message;
      expect(form.error === null, url).toBe(server === null);
    }
  });
});
