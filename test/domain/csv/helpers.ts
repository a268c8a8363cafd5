/* What the CSV scan's tests share: files as byte streams, the scan with tiny or production chunks, numbers, UTF-16 bytes. */
import { type CsvScanOptions, scanCsv } from "../../../src/domain/csv";

export type Row = [number, string, string[]];

export function streamOf(text: string | Uint8Array, pieceBytes = 7): ReadableStream<Uint8Array> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, at + pieceBytes));
      at += pieceBytes;
    },
  });
}

/** Scans with tiny chunks and slices so every boundary case is crossed. */
export async function scan(text: string | Uint8Array, opts: Partial<CsvScanOptions> = {}, pieceBytes = 7) {
  const rows: Row[] = [];
  const slices: number[] = [];
  const result = await scanCsv(
    streamOf(text, pieceBytes),
    { defaultCountry: "US", stopOnInvalid: false, chunkChars: 16, sliceRows: 2, ...opts },
    async (json, n) => {
      slices.push(n);
      rows.push(...(JSON.parse(json) as Row[]));
    },
  );
  return { result, rows, slices };
}

export const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Scans with the production chunk and slice sizes, keeping each slice's JSON text. */
export async function scanWhole(text: string, opts: Partial<CsvScanOptions> = {}) {
  const slices: { json: string; rows: number }[] = [];
  const result = await scanCsv(streamOf(text, 64 * 1024), { defaultCountry: "US", stopOnInvalid: false, ...opts }, async (json, rows) => {
    slices.push({ json, rows });
  });
  return { result, slices };
}

export function phone(i: number): string {
  return `+1212${String(5550000 + i).padStart(7, "0")}`;
}

/** UTF-16 bytes of ASCII text, little- or big-endian, with or without a byte order mark. */
export function utf16(text: string, endian: "le" | "be", bom: boolean): Uint8Array {
  const out: number[] = bom ? (endian === "le" ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
  for (const ch of text) out.push(...(endian === "le" ? [ch.charCodeAt(0), 0] : [0, ch.charCodeAt(0)]));
  return new Uint8Array(out);
}
