import { describe, expect, it } from "vitest";
import { authHeaders, call, json, newWorkspace } from "../helpers";

/**
 * The URL policy as workerd's own URL parser feeds it (test/lib/url-policy.test.ts runs it in Node):
 * workerd, like Node, rewrites 2130706433, 0x7f000001 and 0177.0.0.1 as 127.0.0.1 and an
 * IPv6 address's IPv4 tail as hex, so every spelling below reaches the policy as the address it is.
 */
describe("URL policy inside workerd", () => {
  it.each([
    ["https://0x7f000001/dial", "(127.0.0.1)"],
    ["https://0177.0.0.1/dial", "(127.0.0.1)"],
    ["https://127.1/dial", "(127.0.0.1)"],
    ["https://0xa9fea9fe/latest", "(169.254.169.254)"],
    ["https://[::127.0.0.1]/dial", "(::7f00:1)"],
    ["https://[::a9fe:a9fe]/dial", "(::a9fe:a9fe)"],
    ["https://[64:ff9b::169.254.169.254]/dial", "(64:ff9b::a9fe:a9fe)"],
    ["https://[2002:a9fe:a9fe::1]/dial", "(2002:a9fe:a9fe::1)"],
    ["https://[0:0:0:0:ffff:0:7f00:1]/dial", "(::ffff:0:7f00:1)"],
    ["https://[fec0::1]/dial", "(fec0::1)"],
    ["https://192.0.0.192/dial", "(192.0.0.192)"],
    ["https://198.18.0.1/dial", "(198.18.0.1: benchmarking, 198.18.0.0/15)"],
    ["https://localhost../dial", "(localhost)"],
    ["https://kubernetes.default.svc/dial", "(kubernetes.default.svc)"],
  ])("refuses a webhook agent dialling %s", async (dialUrl, host) => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/agents", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ name: "Hook", provider: "webhook", dialUrl }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body).toMatchObject({ code: "validation_failed", error: expect.stringMatching(/^dialUrl points at a .*; use a public https URL\.$/) });
    expect(body.error).toContain(host);
  });
});
