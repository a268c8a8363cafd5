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

  // Issue 14: each host accepted before, and why it must not be.
  it.each([
    ["https://[::7f00:1]/", "::7f00:1"], // IPv4-compatible 127.0.0.1
    ["https://[::127.0.0.1]/", "::7f00:1"],
    ["https://[::a9fe:a9fe]/", "::a9fe:a9fe"], // IPv4-compatible 169.254.169.254
    ["https://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"], // NAT64 of the metadata address
    ["https://[64:ff9b::169.254.169.254]/", "64:ff9b::a9fe:a9fe"],
    ["https://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"],
    ["https://[64:ff9b:1::a9fe:a9fe]/", "64:ff9b:1::a9fe:a9fe"], // local-use NAT64
    ["https://[2002:a9fe:a9fe::1]/", "2002:a9fe:a9fe::1"], // 6to4 of the metadata address
    ["https://[2002:a00:1::1]/", "2002:a00:1::1"], // 6to4 of 10.0.0.1
    ["https://[::ffff:0:7f00:1]/", "::ffff:0:7f00:1"], // IPv4-translated 127.0.0.1
    ["https://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe"], // IPv4-mapped metadata
    ["https://[::ffff:93.184.216.34]/", "::ffff:5db8:d822"], // IPv4-mapped, even of a public address
    ["https://[::]/", "::"],
    ["https://[fec0::1]/", "fec0::1"], // site-local
    ["https://[febf::1]/", "febf::1"], // link-local, the top of fe80::/10
    ["https://[fc00::1]/", "fc00::1"],
    ["https://[100::1]/", "100::1"], // discard-only, outside global unicast
    ["https://192.0.0.192/", "192.0.0.192"], // Oracle Cloud's metadata
    ["https://192.0.0.170/", "192.0.0.170"], // NAT64 discovery
    ["https://0.1.2.3/", "0.1.2.3"],
    ["https://0177.0.0.1/", "127.0.0.1"], // octal
    ["https://0x7f.1/", "127.0.0.1"], // hex, two parts
    ["https://127.1/", "127.0.0.1"],
    ["https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"],
    ["https://localhost../", "localhost"],
    ["https://localhost.../x", "localhost"],
    ["https://intranet./", "intranet"],
    ["https://kubernetes.default.svc/", "kubernetes.default.svc"],
    ["https://kubernetes.default.svc.cluster.local/", "kubernetes.default.svc.cluster.local"],
    ["https://api.cluster.local./", "api.cluster.local"],
    ["https://nas.lan/", "nas.lan"],
    ["https://ipv4only.arpa/", "ipv4only.arpa"],
    ["https://1.0.0.127.in-addr.arpa/", "1.0.0.127.in-addr.arpa"],
    ["https://instance-data.ec2.internal/", "instance-data.ec2.internal"],
  ])("refuses %s, which reaches inside a network", (url, host) => {
    expect(tenantUrlProblem("webhookUrl", url, production)).toBe(
      `webhookUrl points at a loopback, private, link-local or metadata address (${host}); use a public https URL.`,
    );
  });

  it.each([
    ["https://198.18.0.1/", "198.18.0.1", "benchmarking, 198.18.0.0/15"],
    ["https://198.19.255.255/", "198.19.255.255", "benchmarking, 198.18.0.0/15"],
    ["https://192.0.2.10/", "192.0.2.10", "documentation, 192.0.2.0/24"],
    ["https://198.51.100.7/", "198.51.100.7", "documentation, 198.51.100.0/24"],
    ["https://203.0.113.9/", "203.0.113.9", "documentation, 203.0.113.0/24"],
    ["https://192.88.99.1/", "192.88.99.1", "6to4 relay anycast, 192.88.99.0/24"],
    ["https://240.0.0.1/", "240.0.0.1", "reserved, 240.0.0.0/4"],
    ["https://255.255.255.255/", "255.255.255.255", "reserved, 240.0.0.0/4"],
    ["https://239.1.2.3/", "239.1.2.3", "multicast, 224.0.0.0/4"],
    ["https://224.0.0.1/", "224.0.0.1", "multicast, 224.0.0.0/4"],
    ["https://[ff02::1]/", "ff02::1", "multicast, ff00::/8"],
    ["https://[2001:db8::1]/", "2001:db8::1", "documentation, 2001:db8::/32"],
    ["https://[3fff::1]/", "3fff::1", "documentation, 3fff::/20"],
    [
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "IETF protocol assignments (Teredo, benchmarking, ORCHID), 2001::/23",
    ],
    ["https://[2001:2::1]/", "2001:2::1", "IETF protocol assignments (Teredo, benchmarking, ORCHID), 2001::/23"],
    ["https://[64:ff9b::c000:20a]/", "64:ff9b::c000:20a", "documentation, 192.0.2.0/24"],
  ])("refuses %s, which no public server has", (url, host, block) => {
    expect(tenantUrlProblem("dialUrl", url, production)).toBe(
      `dialUrl points at a reserved address (${host}: ${block}) that no public server has; use a public https URL.`,
    );
  });

  it.each([
    "https://[64:ff9b::5db8:d822]/", // NAT64 of 93.184.216.34
    "https://[2002:5db8:d822::1]/", // 6to4 of 93.184.216.34
    "https://[2001:4860:4860::8888]/", // just above 2001::/23
    "https://[2001:db9::1]/",
    "https://[3fff:1000::1]/", // just above 3fff::/20
    "https://192.0.1.1/",
    "https://198.17.255.255/",
    "https://198.20.0.1/",
    "https://223.255.255.255/",
    "https://hooks.example.com./", // a trailing dot on a public name is still that name
    "https://svc.example.com/",
    "https://local.example.com/",
  ])("keeps %s public", (url) => {
    expect(tenantUrlProblem("webhookUrl", url, production)).toBeNull();
  });

  it.each(["https://a..example.com/", "https://.example.com/"])("refuses the empty label in %s", (url) => {
    expect(tenantUrlProblem("webhookUrl", url, production)).toMatch(
      /^webhookUrl has an empty label in its host \(.+\); write the host name without doubled or leading dots\.$/,
    );
  });

  it("allows http and local hosts in development only, never credentials", () => {
    expect(tenantUrlProblem("dialUrl", "http://localhost:8788/dial", development)).toBeNull();
    expect(tenantUrlProblem("dialUrl", "http://localhost:8788/dial", {})).toBe("dialUrl must use https.");
    expect(tenantUrlProblem("dialUrl", "http://u:p@localhost/", development)).toMatch(/must not carry credentials/);
  });
});
