import { describe, expect, it } from "vitest";
import { formatApiKey, splitApiKey } from "../../src/lib/api-key";

describe("API key format", () => {
  it("splits what it formats", () => {
    const key = formatApiKey("key_0123456789abcdef", "s3cretS3cretS3cret");
    expect(key).toBe("bck_0123456789abcdef_s3cretS3cretS3cret");
    expect(splitApiKey(key)).toEqual({ keyId: "key_0123456789abcdef", secret: "s3cretS3cretS3cret" });
  });

  it("keeps underscores inside the secret", () => {
    expect(splitApiKey("bck_devkey0000000000_devsecret_devsecret_00")).toEqual({ keyId: "key_devkey0000000000", secret: "devsecret_devsecret_00" });
  });

  it.each([
    ["", "empty"],
    ["0123456789abcdef_s3cretS3cretS3cret", "no prefix"],
    ["sk_0123456789abcdef_s3cretS3cretS3cret", "another prefix"],
    ["bck_0123456789abcde_s3cretS3cretS3cret", "a 15-character id"],
    ["bck_0123456789abcdefg_s3cretS3cretS3cret", "a 17-character id"],
    ["bck_0123456789abcd-f_s3cretS3cretS3cret", "a non-alphanumeric id"],
    ["bck_0123456789abcdef_short", "a secret under 16 characters"],
  ])("refuses %j (%s)", (key) => {
    expect(splitApiKey(key)).toBeNull();
  });
});
