import { utf8Bytes } from "../../lib/text";
import { CELL_MAX_BYTES, ROW_MAX_BYTES } from "./limits";

/** Characters of a value or column name echoed into a row error: error bodies stay small. */
export const MAX_ECHO_CHARS = 80;

/**
 * The first size limit a row breaks: a cell over CELL_MAX_BYTES (its
 * index), or the whole row over ROW_MAX_BYTES (cell null). A string of n
 * UTF-16 units is n to 3n UTF-8 bytes, so bytes are counted only where 3n
 * could break a limit: ordinary rows cost one length sum.
 */
export function oversize(row: string[]): { cell: number | null; bytes: number } | null {
  let chars = row.length; // one separator per cell
  for (let j = 0; j < row.length; j++) {
    const n = row[j]!.length;
    chars += n;
    if (n * 3 > CELL_MAX_BYTES) {
      const bytes = utf8Bytes(row[j]!);
      if (bytes > CELL_MAX_BYTES) return { cell: j, bytes };
    }
  }
  if (chars * 3 <= ROW_MAX_BYTES) return null;
  let bytes = row.length;
  for (const f of row) bytes += utf8Bytes(f);
  return bytes > ROW_MAX_BYTES ? { cell: null, bytes } : null;
}

/** `12345` → `12,345`. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A byte limit as a sentence states it: `131,072 bytes (128 KiB)`. */
export function limitText(bytes: number): string {
  return `${thousands(bytes)} bytes (${bytes / 1024} KiB)`;
}
