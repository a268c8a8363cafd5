import { describe, expect, it } from "vitest";
import { scanCsv } from "../../../src/domain/csv";
import { CELL_MAX_BYTES, ROW_MAX_BYTES, SLICE_MAX_BYTES, SLICE_MAX_ROWS } from "../../../src/domain/csv/limits";
import { phone, scan, scanWhole, streamOf, utf8Length, type Row } from "./helpers";

describe("scanCsv slices", () => {
  it("hands rows over in slices and stops handing them once a row is invalid when asked", async () => {
    const csv = "phone_number\n+12125550101\n+12125550102\n+12125550103\nnope\n+12125550104\n+12125550105\n";
    const all = await scan(csv);
    expect(all.slices).toEqual([2, 2, 1]);
    const stopped = await scan(csv, { stopOnInvalid: true });
    expect(stopped.rows.map((r) => r[1])).toEqual(["+12125550101", "+12125550102"]);
    expect(stopped.result.ok && stopped.result.summary.invalidRows).toBe(1);
  });
});

describe("scanCsv slice writes", () => {
  it("keeps at most two slices in flight and, when one fails, lets the others finish before failing", async () => {
    const rows = ["phone_number"];
    for (let i = 0; i < 12; i++) rows.push(`+1212555${1000 + i}`);
    let live = 0;
    let maxLive = 0;
    const settled: number[] = [];
    let n = 0;
    const run = scanCsv(streamOf(rows.join("\n")), { defaultCountry: "US", stopOnInvalid: false, chunkChars: 16, sliceRows: 2 }, async () => {
      const me = ++n;
      live++;
      maxLive = Math.max(maxLive, live);
      await new Promise((r) => setTimeout(r, me === 2 ? 5 : 20));
      live--;
      settled.push(me);
      if (me === 2) throw new Error("slice 2 failed");
    });
    await expect(run).rejects.toThrow("slice 2 failed");
    expect(maxLive).toBe(2);
    expect(live).toBe(0);
    expect([...settled].sort()).toEqual([1, 2]); // slice 1 was still running when 2 failed, and finished first
  });
});

describe("slices bounded by bytes", () => {
  it("keeps every slice of 550-byte rows within SLICE_MAX_BYTES and loses no row", async () => {
    for (const note of ["n", "ü"]) {
      const lines = ["phone_number,first_name,notes"];
      for (let i = 0; i < 4000; i++) lines.push(`${phone(i)},P${i},${note.repeat(550)}`);
      const { result, slices } = await scanWhole(lines.join("\n"));
      expect(result.ok && result.summary.validRows).toBe(4000);
      expect(slices.length).toBeGreaterThan(1);
      for (const s of slices) {
        expect(utf8Length(s.json)).toBeLessThanOrEqual(SLICE_MAX_BYTES);
        expect(s.rows).toBe((JSON.parse(s.json) as unknown[]).length);
      }
      expect(slices.reduce((n, s) => n + s.rows, 0)).toBe(4000);
      // the budget is used, not merely respected: slices are more than half full
      expect(utf8Length(slices[0]!.json)).toBeGreaterThan(SLICE_MAX_BYTES / 2);
    }
  });

  it("still cuts slices of short rows at SLICE_MAX_ROWS", async () => {
    const lines = ["phone_number"];
    for (let i = 0; i < SLICE_MAX_ROWS + 10; i++) lines.push(phone(i));
    const { slices } = await scanWhole(lines.join("\n"));
    expect(slices.map((s) => s.rows)).toEqual([SLICE_MAX_ROWS, 10]);
  });

  it("fits the largest row the limits allow in one slice, even when JSON escapes every character", async () => {
    // Control characters become \u00XX: six bytes of JSON for one byte of file.
    const cell = "\u0001".repeat(CELL_MAX_BYTES - 1000);
    const row = `${phone(1)},${cell},${cell}`;
    expect(utf8Length(row)).toBeLessThanOrEqual(ROW_MAX_BYTES);
    const { result, slices } = await scanWhole(`phone_number,a,b\n${row}\n${phone(2)},${cell},${cell}\n`);
    expect(result.ok && result.summary.validRows).toBe(2);
    expect(slices.map((s) => s.rows)).toEqual([1, 1]);
    for (const s of slices) expect(utf8Length(s.json)).toBeLessThanOrEqual(SLICE_MAX_BYTES);
  });

  it("honours a smaller byte budget with tiny chunks, and a row larger than the budget goes alone", async () => {
    const lines = ["phone_number,notes"];
    for (let i = 0; i < 40; i++) lines.push(`${phone(i)},${"é".repeat(i % 9 === 0 ? 120 : 10)}`);
    const rows: Row[] = [];
    const sizes: [number, number][] = [];
    await scanCsv(
      streamOf(lines.join("\n")),
      { defaultCountry: "US", stopOnInvalid: false, chunkChars: 16, sliceRows: 1000, sliceBytes: 200 },
      async (json, n) => {
        sizes.push([utf8Length(json), n]);
        rows.push(...(JSON.parse(json) as Row[]));
      },
    );
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 40 }, (_, i) => i));
    for (const [bytes, n] of sizes) expect(bytes <= 200 || n === 1, `${n} rows in ${bytes} bytes`).toBe(true);
    expect(sizes.some(([bytes]) => bytes > 200)).toBe(true);
  });
});
