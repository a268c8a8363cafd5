/**
 * One JSON object per line, so Workers Logs can filter on any field. Callers
 * pass ids and counts only: never keys, secrets or phone numbers.
 */
export type LogFields = {
  requestId?: string;
  workspaceId?: string;
  batchId?: string;
  [field: string]: unknown;
};

export function log(level: "info" | "warn" | "error", event: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, event, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
