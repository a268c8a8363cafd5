const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += HEX[b];
  return out;
}

/**
 * Time-ordered id: 12 hex chars of milliseconds then 8 random bytes, so ids
 * sort by creation and never collide in practice.
 */
export function newId(prefix: "ws" | "agent" | "batch" | "key"): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, "0")}${randomHex(8)}`;
}

/** Calls are addressed by their batch and position; the id is derived, not stored. */
export function callId(batchId: string, seq: number): string {
  return `call_${batchId.slice("batch_".length)}_${seq}`;
}

export function parseCallId(id: string): { batchId: string; seq: number } | null {
  const m = /^call_([A-Za-z0-9]+)_(\d{1,9})$/.exec(id);
  if (!m) return null;
  return { batchId: `batch_${m[1]}`, seq: Number(m[2]) };
}
