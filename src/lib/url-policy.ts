/**
 * Which URLs a tenant may make this service call (`webhookUrl`, `dialUrl`,
 * `voiceUrl`). Outside development: https only, and never a host that
 * names this network's inside or an address no public server has:
 *
 * - IPv4: every block of the IANA IPv4 Special-Purpose Address Registry
 *   (loopback, private, shared/CGN, link-local, 192.0.0.0/24 — Oracle's
 *   metadata is 192.0.0.192 —, documentation, benchmarking, AS112, 6to4
 *   relay, reserved, broadcast) and multicast, in whatever spelling
 *   (the URL parser turns 2130706433 and 0x7f.1 into 127.0.0.1).
 * - IPv6: global unicast (2000::/3) only, without the registry's blocks
 *   inside it (2001::/23 with Teredo, 2001:db8::/32, 3fff::/20). Forms that
 *   carry an IPv4 address are judged by it: NAT64 64:ff9b::/96 and 6to4
 *   2002::/16; the IPv4-mapped, -translated and -compatible forms,
 *   local-use NAT64, ULA, link-local, site-local and multicast lie outside
 *   2000::/3 and are refused whatever they carry.
 * - Names: single-label names, and the suffixes of names that resolve
 *   inside a network (localhost, .local, .internal, .svc, .cluster.local,
 *   .home.arpa, .arpa, …). Trailing dots are ignored (`localhost..` is
 *   localhost) and empty labels refused.
 *
 * Everywhere: no credentials in the URL. The host is checked as written; a
 * public name that resolves to a private address is the platform's to
 * refuse (Workers cannot reach private networks), and outbound requests
 * never follow redirects, so the URL checked is the URL hit.
 */
export type UrlPolicyEnv = { ENVIRONMENT?: string };

const BLOCKED_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data", "ipv4only.arpa"]);
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".localdomain",
  ".lan",
  ".home",
  ".corp",
  ".private",
  ".home.arpa",
  ".arpa",
  ".svc",
  ".cluster.local",
  ".alt",
  ".onion",
];

/** A refusal: `internal` names this network's inside; `reserved` an address no public server has. */
type Verdict = { kind: "internal" } | { kind: "reserved"; block: string } | null;

type Block4 = { base: number; bits: number; kind: "internal" | "reserved"; name: string };

const ip4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** The IANA IPv4 Special-Purpose Address Registry, plus multicast. */
const SPECIAL_V4: Block4[] = [
  { base: ip4(0, 0, 0, 0), bits: 8, kind: "internal", name: '"this network", 0.0.0.0/8' },
  { base: ip4(10, 0, 0, 0), bits: 8, kind: "internal", name: "private, 10.0.0.0/8" },
  { base: ip4(100, 64, 0, 0), bits: 10, kind: "internal", name: "shared address space, 100.64.0.0/10" },
  { base: ip4(127, 0, 0, 0), bits: 8, kind: "internal", name: "loopback, 127.0.0.0/8" },
  { base: ip4(169, 254, 0, 0), bits: 16, kind: "internal", name: "link-local, 169.254.0.0/16" },
  { base: ip4(172, 16, 0, 0), bits: 12, kind: "internal", name: "private, 172.16.0.0/12" },
  { base: ip4(192, 0, 0, 0), bits: 24, kind: "internal", name: "IETF protocol assignments, 192.0.0.0/24" },
  { base: ip4(192, 0, 2, 0), bits: 24, kind: "reserved", name: "documentation, 192.0.2.0/24" },
  { base: ip4(192, 31, 196, 0), bits: 24, kind: "reserved", name: "AS112, 192.31.196.0/24" },
  { base: ip4(192, 52, 193, 0), bits: 24, kind: "reserved", name: "AMT, 192.52.193.0/24" },
  { base: ip4(192, 88, 99, 0), bits: 24, kind: "reserved", name: "6to4 relay anycast, 192.88.99.0/24" },
  { base: ip4(192, 168, 0, 0), bits: 16, kind: "internal", name: "private, 192.168.0.0/16" },
  { base: ip4(192, 175, 48, 0), bits: 24, kind: "reserved", name: "AS112, 192.175.48.0/24" },
  { base: ip4(198, 18, 0, 0), bits: 15, kind: "reserved", name: "benchmarking, 198.18.0.0/15" },
  { base: ip4(198, 51, 100, 0), bits: 24, kind: "reserved", name: "documentation, 198.51.100.0/24" },
  { base: ip4(203, 0, 113, 0), bits: 24, kind: "reserved", name: "documentation, 203.0.113.0/24" },
  { base: ip4(224, 0, 0, 0), bits: 4, kind: "reserved", name: "multicast, 224.0.0.0/4" },
  { base: ip4(240, 0, 0, 0), bits: 4, kind: "reserved", name: "reserved, 240.0.0.0/4" },
];

function within(addr: number, base: number, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (addr & mask) >>> 0 === base;
}

function judgeV4(addr: number): Verdict {
  const block = SPECIAL_V4.find((b) => within(addr, b.base, b.bits));
  if (!block) return null;
  return block.kind === "internal" ? { kind: "internal" } : { kind: "reserved", block: block.name };
}

/**
 * A dotted-quad IPv4 host as a number, else null. The URL parser (WHATWG,
 * in workerd as in Node) has already rewritten the other spellings —
 * 2130706433, 0x7f000001, 0177.1 — as 127.0.0.1.
 */
function ipv4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const [a, b, c, d] = m.slice(1).map(Number) as [number, number, number, number];
  return [a, b, c, d].every((n) => n <= 255) ? ip4(a, b, c, d) : null;
}

/** An IPv6 address (brackets off) as eight 16-bit groups, or null. Accepts `::` and a dotted IPv4 tail. */
function ipv6Groups(host: string): number[] | null {
  let h = host;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (tail) {
    const v4 = ipv4(tail[1]!);
    if (v4 === null) return null;
    h = `${h.slice(0, -tail[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = h.split("::");
  if (halves.length > 2) return null;
  const read = (s: string) => (s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN)));
  const head = read(halves[0]!);
  const rest = halves.length === 2 ? read(halves[1]!) : [];
  if (halves.length === 2 && head.length + rest.length > 7) return null;
  const groups = halves.length === 2 ? [...head, ...new Array(8 - head.length - rest.length).fill(0), ...rest] : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0) ? groups : null;
}

function judgeV6(g: number[]): Verdict {
  const v4At = (i: number) => ((g[i]! << 16) | g[i + 1]!) >>> 0;
  // NAT64's well-known prefix and 6to4 reach the IPv4 address they carry: judged by it.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) return judgeV4(v4At(6));
  if (g[0] === 0x2002) return judgeV4(v4At(1));
  const first = g[0]!;
  if (first >= 0xff00) return { kind: "reserved", block: "multicast, ff00::/8" };
  // Outside global unicast: loopback, unspecified, the IPv4-mapped/-translated/-compatible
  // forms (::/8), local-use NAT64, ULA, link-local, site-local, and unallocated space.
  if (first < 0x2000 || first > 0x3fff) return { kind: "internal" };
  if (first === 0x2001 && g[1]! < 0x200) return { kind: "reserved", block: "IETF protocol assignments (Teredo, benchmarking, ORCHID), 2001::/23" };
  if (first === 0x2001 && g[1] === 0xdb8) return { kind: "reserved", block: "documentation, 2001:db8::/32" };
  if (first === 0x3fff && g[1]! < 0x1000) return { kind: "reserved", block: "documentation, 3fff::/20" };
  return null;
}

function judgeName(host: string): Verdict {
  const internal = BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".");
  return internal ? { kind: "internal" } : null;
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
  // `localhost.` and `localhost..` are localhost: every trailing dot goes before the name is judged.
  const host = url.hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.+$/, "")
    .toLowerCase();
  if (host === "" || (!host.includes(":") && host.split(".").includes(""))) {
    return `${field} has an empty label in its host (${url.hostname}); write the host name without doubled or leading dots.`;
  }
  if (host.includes(":")) {
    const groups = ipv6Groups(host);
    return verdictSentence(field, host, groups ? judgeV6(groups) : { kind: "internal" });
  }
  const v4 = ipv4(host);
  // A host ending in a number that is not a dotted quad is an IPv4 address the parser left in another spelling.
  if (v4 === null && /(^|\.)(0x[0-9a-f]*|\d+)$/.test(host)) return verdictSentence(field, host, { kind: "internal" });
  if (v4 !== null) return verdictSentence(field, [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join("."), judgeV4(v4));
  return verdictSentence(field, host, judgeName(host));
}

function verdictSentence(field: string, host: string, verdict: Verdict): string | null {
  if (!verdict) return null;
  if (verdict.kind === "internal") {
    return `${field} points at a loopback, private, link-local or metadata address (${host}); use a public https URL.`;
  }
  return `${field} points at a reserved address (${host}: ${verdict.block}) that no public server has; use a public https URL.`;
}
