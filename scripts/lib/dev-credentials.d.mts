export function splitApiKey(apiKey: string): { keyId: string; secret: string } | null;
export function secretHash(secret: string): string;
export function encryptSecret(plain: string, keyB64: string): string;
export function missingDevSetting(env: Record<string, string | undefined>, devVars: Record<string, string | undefined>): string | null;
