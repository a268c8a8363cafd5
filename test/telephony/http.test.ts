import { describe, expect, it } from "vitest";
import { fetchFailure, joinUrl, quotedUrl, redirectRefusal, retryAfterSec } from "../../src/telephony/http";

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

describe("redirectRefusal", () => {
  const res = (status: number, location?: string) => new Response(null, { status, headers: location ? { location } : {} });

  it("names a 3xx and where it points, resolved against the request's URL, without its query", () => {
    expect(redirectRefusal(res(307, "https://elsewhere.example.net/dial?token=t"), "https://dialer.example.com/dial")).toBe(
      "answered 307 redirecting to https://elsewhere.example.net/dial; redirects are not followed",
    );
    expect(redirectRefusal(res(301, "/v2/dial"), "https://dialer.example.com/dial")).toBe(
      "answered 301 redirecting to https://dialer.example.com/v2/dial; redirects are not followed",
    );
    expect(redirectRefusal(res(302), "https://dialer.example.com/dial")).toBe("answered 302 (a redirect without a Location); redirects are not followed");
  });

  it("clips a long Location", () => {
    const sentence = redirectRefusal(res(308, `https://elsewhere.example.net/${"a".repeat(500)}`), "https://dialer.example.com/")!;
    expect(sentence).toMatch(/^answered 308 redirecting to https:\/\/elsewhere\.example\.net\/a+…; redirects are not followed$/);
    expect(sentence.length).toBeLessThan(300);
  });

  it("is null for anything but a 3xx", () => {
    for (const status of [200, 204, 400, 429, 500]) expect(redirectRefusal(res(status, "https://x.example/"), "https://dialer.example.com/")).toBeNull();
  });
});

describe("quotedUrl", () => {
  it("keeps scheme, host and path, never the query or fragment", () => {
    expect(quotedUrl("https://dialer.example.com/dial?key=secret#x")).toBe("https://dialer.example.com/dial");
    expect(quotedUrl("not a url")).toBe("not a url");
  });
});

describe("fetchFailure", () => {
  it("tells our own deadline (the request may have arrived) from a request nothing answered", () => {
    expect(fetchFailure(new DOMException("The operation timed out.", "TimeoutError"))).toEqual({
      timedOut: true,
      name: "TimeoutError",
      message: "The operation timed out",
    });
    expect(fetchFailure(new DOMException("aborted", "AbortError")).timedOut).toBe(true);
    // What workerd's fetch throws for a refused connection.
    expect(fetchFailure(new Error("Network connection lost."))).toEqual({ timedOut: false, name: "Error", message: "Network connection lost" });
    expect(fetchFailure("boom")).toEqual({ timedOut: false, name: "Error", message: "boom" });
  });
});
