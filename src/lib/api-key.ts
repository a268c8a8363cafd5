/** API keys look like `bck_<16-char key id>_<secret>`: the id part finds the row, the secret is compared by hash. */
const KEY_PREFIX = "bck_";
const KEY_ID_LENGTH = 16;

export function splitApiKey(apiKey: string): { keyId: string; secret: string } | null {
  if (!apiKey.startsWith(KEY_PREFIX) || apiKey[KEY_PREFIX.length + KEY_ID_LENGTH] !== "_") return null;
  const idPart = apiKey.slice(KEY_PREFIX.length, KEY_PREFIX.length + KEY_ID_LENGTH);
  const secret = apiKey.slice(KEY_PREFIX.length + KEY_ID_LENGTH + 1);
  if (!/^[A-Za-z0-9]+$/.test(idPart) || secret.length < 16) return null;
  return { keyId: `key_${idPart}`, secret };
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${KEY_PREFIX}${keyId.slice("key_".length)}_${secret}`;
}
