import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors";
import { splitApiKey } from "../../src/lib/api-key";
import { decryptSecret, sha256Hex } from "../../src/lib/crypto";
import {
  createWorkspace,
  issueApiKey,
  ownWorkspace,
  patchWorkspace,
  revokeKey,
  rotateWebhookSecret,
  setContactPolicy,
  workspaceDetail,
} from "../../src/services/workspaces";

const REQ = "req_test";

async function thrown(run: () => Promise<unknown>): Promise<ApiError | Error> {
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as ApiError | Error;
}

const storedKey = (id: string) => env.DB.prepare("SELECT workspace_id, secret_hash, revoked_at FROM api_keys WHERE id = ?1").bind(id).first();
const storedSecret = (id: string) => env.DB.prepare("SELECT webhook_secret_enc FROM workspaces WHERE id = ?1").bind(id).first<string>("webhook_secret_enc");

describe("createWorkspace", () => {
  it("stores the key's hash and the webhook secret sealed, and shows both only in its answer", async () => {
    const created = await createWorkspace(env, { name: "Svc", rateLimits: { maxConcurrentCalls: 4 } }, REQ);
    expect(created).toMatchObject({ name: "Svc", rateLimits: { callsPerSecond: 1, maxConcurrentCalls: 4 }, webhookUrl: null, timezone: null });
    const parts = splitApiKey(created.apiKey);
    expect(parts?.keyId).toBe(created.keyId);
    expect(await storedKey(created.keyId)).toEqual({ workspace_id: created.workspaceId, secret_hash: await sha256Hex(parts!.secret), revoked_at: null });
    expect(created.webhookSecret).toMatch(/^whsec_/);
    const sealed = await storedSecret(created.workspaceId);
    expect(sealed).not.toContain(created.webhookSecret);
    expect(await decryptSecret(sealed!, env.SECRETS_ENCRYPTION_KEY)).toBe(created.webhookSecret);
  });

  it("refuses a webhookUrl the URL policy forbids, creating nothing, and fails without an encryption key", async () => {
    const name = `svc-refused-${crypto.randomUUID()}`;
    const err = await thrown(() => createWorkspace(env, { name, webhookUrl: "http://hooks.example.com/in" }, REQ));
    expect(err).toMatchObject({ code: "validation_failed" });
    expect(err.message).toContain("must use https");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM workspaces WHERE name = ?1").bind(name).first<number>("n")).toBe(0);
    const unsealed = await thrown(() => createWorkspace({ ...env, SECRETS_ENCRYPTION_KEY: "" }, { name }, REQ));
    expect(unsealed).not.toBeInstanceOf(ApiError);
    expect(unsealed.message).toBe("SECRETS_ENCRYPTION_KEY is not configured");
  });
});

describe("keys and secrets of a workspace", () => {
  it("issues a key that is stored as a hash, and revokes it (twice is harmless)", async () => {
    const ws = await createWorkspace(env, { name: "Keys" }, REQ);
    const issued = await issueApiKey(env.DB, ws.workspaceId, REQ);
    expect(issued).toEqual({ keyId: expect.stringMatching(/^key_/), apiKey: expect.any(String), workspaceId: ws.workspaceId });
    expect((await storedKey(issued.keyId))?.secret_hash).toBe(await sha256Hex(splitApiKey(issued.apiKey)!.secret));
    expect(await revokeKey(env.DB, ws.workspaceId, issued.keyId, REQ)).toEqual({ keyId: issued.keyId, revoked: true });
    expect(await revokeKey(env.DB, ws.workspaceId, issued.keyId, REQ)).toEqual({ keyId: issued.keyId, revoked: true });
    const detail = await workspaceDetail(env.DB, ws.workspaceId);
    expect(detail.apiKeys.map((k) => [k.keyId, k.state])).toEqual([
      [ws.keyId, "active"],
      [issued.keyId, "revoked"],
    ]);
  });

  it("rotates the webhook secret: a new one, sealed", async () => {
    const ws = await createWorkspace(env, { name: "Rotate" }, REQ);
    const rotated = await rotateWebhookSecret(env, ws.workspaceId, REQ);
    expect(rotated.workspaceId).toBe(ws.workspaceId);
    expect(rotated.webhookSecret).not.toBe(ws.webhookSecret);
    expect(await decryptSecret((await storedSecret(ws.workspaceId))!, env.SECRETS_ENCRYPTION_KEY)).toBe(rotated.webhookSecret);
  });

  it("answers 404 for a workspace that does not exist, whatever the call", async () => {
    const missing = `ws_missing_${crypto.randomUUID()}`;
    const message = `Workspace ${missing} does not exist.`;
    for (const run of [
      () => workspaceDetail(env.DB, missing),
      () => rotateWebhookSecret(env, missing, REQ),
      () => patchWorkspace(env, missing, { name: "x" }, REQ),
      () => issueApiKey(env.DB, missing, REQ),
      () => ownWorkspace(env.DB, missing),
      () => setContactPolicy(env.DB, missing, { maxAttempts: [{ count: 1, hours: 1 }] }, REQ),
    ]) {
      expect(await thrown(run)).toMatchObject({ code: "not_found", status: 404, message });
    }
    expect(await thrown(() => revokeKey(env.DB, missing, "key_x", REQ))).toMatchObject({
      code: "not_found",
      message: `Key key_x does not exist in workspace ${missing}.`,
    });
  });
});
