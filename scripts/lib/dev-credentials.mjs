// @ts-check
/**
 * The two formats npm start must write exactly as the Worker reads them,
 * in plain Node (scripts cannot import src/*.ts). test/lib/dev-credentials.test.ts
 * checks them against src/lib/api-key.ts and src/lib/crypto.ts, so they cannot drift.
 * Their types are in dev-credentials.d.mts (for that test, whose project reads no JS);
 * each function here is typed by it, so the two cannot drift either.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";

/**
 * splitApiKey of src/lib/api-key.ts: `bck_<16-char id>_<secret>`, or null.
 * @type {typeof import("./dev-credentials.d.mts").splitApiKey}
 */
export function splitApiKey(apiKey) {
  const m = /^bck_([A-Za-z0-9]{16})_(.{16,})$/.exec(apiKey);
  return m?.[1] && m[2] ? { keyId: `key_${m[1]}`, secret: m[2] } : null;
}

/**
 * The stored hash of a key's secret, as src/lib/crypto.ts sha256Hex computes it.
 * @type {typeof import("./dev-credentials.d.mts").secretHash}
 */
export function secretHash(secret) {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * encryptSecret of src/lib/crypto.ts: base64(iv || ciphertext || tag) under AES-256-GCM. Throws on a key that is not 32 bytes.
 * @type {typeof import("./dev-credentials.d.mts").encryptSecret}
 */
export function encryptSecret(plain, keyB64) {
  const key = Buffer.from(keyB64, "base64");
  if (key.length !== 32) throw new Error("SECRETS_ENCRYPTION_KEY in .dev.vars must be 32 bytes, base64-encoded.");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString("base64");
}

/**
 * What npm start's settings lack, as the sentence it stops with, or null.
 * The dev workspace's ids and key may come from the environment or
 * .dev.vars; the encryption key must be in .dev.vars, because the Worker
 * reads it from there only and the seed must seal with that same key.
 * @type {typeof import("./dev-credentials.d.mts").missingDevSetting}
 */
export function missingDevSetting(env, devVars) {
  for (const name of ["DEV_WORKSPACE_ID", "DEV_API_KEY", "DEV_AGENT_ID"]) {
    if (!(env[name] ?? devVars[name])) return `${name} is missing from .dev.vars (see .dev.vars.example).`;
  }
  if (!devVars.SECRETS_ENCRYPTION_KEY) {
    return env.SECRETS_ENCRYPTION_KEY
      ? "SECRETS_ENCRYPTION_KEY must be set in .dev.vars, not only in the environment: the Worker reads it from .dev.vars."
      : "SECRETS_ENCRYPTION_KEY is missing from .dev.vars (see .dev.vars.example).";
  }
  return null;
}
