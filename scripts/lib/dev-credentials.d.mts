export function splitApiKey(apiKey: string): { keyId: string; secret: string } | null;
export function secretHash(secret: string): string;
export function encryptSecret(plain: string, keyB64: string): string;
