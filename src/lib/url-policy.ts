/**
 * Which URLs a tenant may make this service call (`webhookUrl`, `dialUrl`,
 * `voiceUrl`). Outside development: https only, and never a host that
 * names this network's inside (loopback, private, link-local, carrier-grade
 * NAT, cloud metadata). Everywhere: no credentials in the URL.
 *
 * The host is checked as written; a public name that resolves to a private
 * address is the platform's to refuse (Workers cannot reach private networks).
 */
export type UrlPolicyEnv = { ENVIRONMENT?: string };

const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data"]);
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"];

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const nums = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return nums.every((n) => n >= 0 && n <= 255) ? nums : null;
}

function privateIpv4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b! >= 64 && b! <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b! >= 16 && b! <= 31) ||
    (a === 192 && b === 168) ||
    a! >= 224
  );
}

function privateIpv6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return privateIpv4(ipv4(mapped[1]!)!);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(h)) return true; // IPv4-mapped, hex form
  return /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || /^ff/.test(h);
}

/** Why this URL may not be used, as a sentence naming the field, or null when it may. */
export function tenantUrlProblem(field: string, raw: string, env: UrlPolicyEnv): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${field} is not a valid URL.`;
  }
  if (url.username || url.password) {
    return `${field} must not carry credentials (user:password@); verify requests with the signature instead.`;
  }
  const development = env.ENVIRONMENT === "development";
  if (url.protocol !== "https:" && !(development && url.protocol === "http:")) {
    return `${field} must use https.`;
  }
  if (development) return null;
  const host = url.hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  const v4 = ipv4(host);
  const internal =
    BLOCKED_NAMES.has(host) ||
    BLOCKED_SUFFIXES.some((s) => host.endsWith(s)) ||
    (v4 !== null && privateIpv4(v4)) ||
    (host.includes(":") && privateIpv6(host)) ||
    // A bare number or hex is an IPv4 address in another spelling (http://2130706433/ is 127.0.0.1).
    /^(0x[0-9a-f]+|\d+)$/.test(host) ||
    (!host.includes(".") && !host.includes(":"));
  if (internal) {
    return `${field} points at a loopback, private, link-local or metadata address (${host}); use a public https URL.`;
  }
  return null;
}
