import { describe, expect, it } from "vitest";
import { joinUrl, retryAfterSec } from "../../src/telephony/http";

describe("joinUrl", () => {
  it("puts exactly one slash between a base URL and a path, whether or not the base ends in one", () => {
    expect(joinUrl("https://calls.example.test", "/v1/x?a=1")).toBe("https://calls.example.test/v1/x?a=1");
    expect(joinUrl("https://calls.example.test/", "/v1/x?a=1")).toBe("https://calls.example.test/v1/x?a=1");
    expect(joinUrl("https://proxy.example.test/twilio/", "/2010-04-01")).toBe("https://proxy.example.test/twilio/2010-04-01");
  });
});

describe("retryAfterSec", () => {
  const res = (value?: string) => new Response(null, { status: 429, headers: value === undefined ? {} : { "retry-after": value } });

  it("is the header's seconds when it gives a positive number", () => {
    expect(retryAfterSec(res("30"))).toBe(30);
    expect(retryAfterSec(res("1.5"))).toBe(1.5);
  });

  it("is 0 (the queue's own backoff) when the header is missing, zero, negative or an HTTP date", () => {
    expect(retryAfterSec(res())).toBe(0);
    expect(retryAfterSec(res("0"))).toBe(0);
    expect(retryAfterSec(res("-5"))).toBe(0);
    expect(retryAfterSec(res("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(0);
  });
});
