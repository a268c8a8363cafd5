import { fromBase64, toBase64, timingSafeEqualStr } from "./crypto";

const enc = new TextEncoder();

async function hmac(hash: "SHA-1" | "SHA-256", key: Uint8Array, message: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(message))));
}

/**
 * Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token,
 * over the full URL followed by every POST parameter (sorted by name) as name+value.
 */
export async function twilioSignature(authToken: string, url: string, params: [string, string][]): Promise<string> {
  const sorted = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hmac("SHA-1", enc.encode(authToken), url + sorted.map(([k, v]) => k + v).join(""));
}

export async function verifyTwilioSignature(authToken: string, url: string, params: [string, string][], given: string | null): Promise<boolean> {
  if (!given) return false;
  return timingSafeEqualStr(await twilioSignature(authToken, url, params), given);
}

/** A Standard Webhooks secret: `whsec_<base64>` is the key's bytes; any other string is used as UTF-8. */
export function webhookKey(secret: string): Uint8Array {
  return secret.startsWith("whsec_") ? fromBase64(secret.slice(6)) : enc.encode(secret);
}

/** Standard Webhooks headers for `body`: v1 = base64 HMAC-SHA256 over `id.timestamp.body`. */
export async function signWebhook(secret: string, id: string, body: string, nowSec = Math.floor(Date.now() / 1000)): Promise<Record<string, string>> {
  const ts = String(nowSec);
  return { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": `v1,${await hmac("SHA-256", webhookKey(secret), `${id}.${ts}.${body}`)}` };
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/**
 * Checks Standard Webhooks headers against one secret or several (a key
 * and the one it replaced); a timestamp more than 5 minutes off `now`
 * (epoch ms, the caller's clock) is refused (replays).
 */
export async function verifyWebhook(secrets: string | readonly string[], headers: Headers, body: string, now: number): Promise<boolean> {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const sigs = headers.get("webhook-signature");
  if (!id || !ts || !sigs || !/^\d+$/.test(ts) || Math.abs(Math.floor(now / 1000) - Number(ts)) > 300) return false;
  // The header may carry several space-separated signatures (the sender's key rotation).
  const given = sigs.split(" ");
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = `v1,${await hmac("SHA-256", webhookKey(secret), `${id}.${ts}.${body}`)}`;
    if (given.some((s) => timingSafeEqualStr(s, expected))) return true;
  }
  return false;
}
