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
