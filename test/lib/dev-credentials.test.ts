import { describe, expect, it } from "vitest";
import * as dev from "../../scripts/lib/dev-credentials.mjs";
import { formatApiKey, splitApiKey } from "../../src/lib/api-key";
import { decryptSecret, sha256Hex } from "../../src/lib/crypto";

/** npm start writes the dev key's row and the workspace's sealed secret in plain Node; the Worker must read them as its own. */
describe("npm start's credentials match the Worker's formats", () => {
  it.each([
    "bck_devkey0000000000_devsecretdevsecretdevsecret00",
    formatApiKey("key_0123456789abcdef", "s3cret_with_underscores"),
    "bck_0123456789abcdef_short",
    "bck_0123456789abcde_s3cretS3cretS3cret",
    "bck_0123456789abcd-f_s3cretS3cretS3cret",
    "sk_0123456789abcdef_s3cretS3cretS3cret",
    "",
  ])("splits %j as the Worker does", (key) => {
    expect(dev.splitApiKey(key)).toEqual(splitApiKey(key));
  });

  it("hashes a key's secret as the Worker does", async () => {
    expect(dev.secretHash("devsecretdevsecretdevsecret00")).toBe(await sha256Hex("devsecretdevsecretdevsecret00"));
  });

  it("seals a secret the Worker can open", async () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const sealed = dev.encryptSecret("whsec_dev", key);
    expect(await decryptSecret(sealed, key)).toBe("whsec_dev");
    expect(() => dev.encryptSecret("whsec_dev", Buffer.alloc(16).toString("base64"))).toThrow(/must be 32 bytes/);
  });
});

describe("npm start's settings check", () => {
  const complete = { DEV_WORKSPACE_ID: "ws_dev", DEV_API_KEY: "bck_x", DEV_AGENT_ID: "agent_dev", SECRETS_ENCRYPTION_KEY: "a2V5" };

  it("passes with every setting in .dev.vars, or the dev ids from the environment", () => {
    expect(dev.missingDevSetting({}, complete)).toBeNull();
    const { DEV_API_KEY, ...fileWithoutKey } = complete;
    expect(dev.missingDevSetting({ DEV_API_KEY }, fileWithoutKey)).toBeNull();
  });

  it("names a missing setting", () => {
    const { DEV_AGENT_ID: _, ...withoutAgent } = complete;
    expect(dev.missingDevSetting({}, withoutAgent)).toBe("DEV_AGENT_ID is missing from .dev.vars (see .dev.vars.example).");
  });

  it("stops on an encryption key set only in the environment, which the Worker never sees, saying where it must go", () => {
    const { SECRETS_ENCRYPTION_KEY, ...withoutKey } = complete;
    expect(dev.missingDevSetting({ SECRETS_ENCRYPTION_KEY }, withoutKey)).toMatch(/must be set in \.dev\.vars, not only in the environment/);
    expect(dev.missingDevSetting({}, withoutKey)).toBe("SECRETS_ENCRYPTION_KEY is missing from .dev.vars (see .dev.vars.example).");
  });
});
