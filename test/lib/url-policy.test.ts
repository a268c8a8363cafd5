import { describe, expect, it } from "vitest";
import { tenantUrlProblem } from "../../src/lib/url-policy";

const production = { ENVIRONMENT: "production" };
const development = { ENVIRONMENT: "development" };

describe("tenantUrlProblem", () => {
  it.each(["https://hooks.example.com/calls", "https://93.184.216.34/x", "https://[2606:4700::1111]/", "https://example.com:8443/a?b=c"])(
    "allows the public https URL %s",
    (url) => {
      expect(tenantUrlProblem("webhookUrl", url, production)).toBeNull();
    },
  );

  it.each([
    ["http://hooks.example.com/", "webhookUrl must use https."],
    ["ftp://hooks.example.com/", "webhookUrl must use https."],
    ["not a url", "webhookUrl is not a valid URL."],
    ["https://user:pw@hooks.example.com/", "webhookUrl must not carry credentials (user:password@); verify requests with the signature instead."],
    ["https://user@hooks.example.com/", "webhookUrl must not carry credentials (user:password@); verify requests with the signature instead."],
  ])("refuses %s: %s", (url, sentence) => {
    expect(tenantUrlProblem("webhookUrl", url, production)).toBe(sentence);
  });

  it.each([
    ["https://localhost/", "localhost"],
    ["https://app.localhost/", "app.localhost"],
    ["https://printer.local/", "printer.local"],
    ["https://db.internal/", "db.internal"],
    ["https://metadata.google.internal/", "metadata.google.internal"],
    ["https://router.home.arpa/", "router.home.arpa"],
    ["https://127.0.0.1/", "127.0.0.1"],
    ["https://0.0.0.0/", "0.0.0.0"],
    ["https://10.1.2.3/", "10.1.2.3"],
    ["https://100.64.0.1/", "100.64.0.1"],
    ["https://169.254.169.254/latest/meta-data", "169.254.169.254"],
    ["https://172.16.0.1/", "172.16.0.1"],
    ["https://172.31.255.255/", "172.31.255.255"],
    ["https://192.168.1.1/", "192.168.1.1"],
    ["https://224.0.0.1/", "224.0.0.1"],
    ["https://2130706433/", "127.0.0.1"],
    ["https://0x7f000001/", "127.0.0.1"],
    ["https://[::1]/", "::1"],
    ["https://[::ffff:127.0.0.1]/", "::ffff:7f00:1"],
    ["https://[fd00::1]/", "fd00::1"],
    ["https://[fe80::1]/", "fe80::1"],
    ["https://intranet/", "intranet"],
    ["https://LOCALHOST./", "localhost"],
  ])("refuses the internal host of %s", (url, host) => {
    expect(tenantUrlProblem("dialUrl", url, production)).toBe(
      `dialUrl points at a loopback, private, link-local or metadata address (${host}); use a public https URL.`,
    );
  });

  it.each(["https://172.15.0.1/", "https://172.32.0.1/", "https://100.63.0.1/", "https://11.0.0.1/"])("keeps %s, next to a private range, public", (url) => {
    expect(tenantUrlProblem("voiceUrl", url, production)).toBeNull();
  });

  it("allows http and local hosts in development only, never credentials", () => {
    expect(tenantUrlProblem("dialUrl", "http://localhost:8788/dial", development)).toBeNull();
    expect(tenantUrlProblem("dialUrl", "http://localhost:8788/dial", {})).toBe("dialUrl must use https.");
    expect(tenantUrlProblem("dialUrl", "http://u:p@localhost/", development)).toMatch(/must not carry credentials/);
  });
});
