import { describe, expect, it } from "vitest";
import { phone, scan } from "./helpers";

describe("file lines and quotes", () => {
  it("ignores blank lines but counts them for line numbers", async () => {
    const csv = "\n\nphone_number,email\n\n+12125550101,a@example.com\n   \n,,\nbad,\n\n";
    const { result, rows } = await scan(csv);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(rows.map((r) => r[1])).toEqual(["+12125550101"]);
    expect(result.summary.dataRows).toBe(2);
    expect(result.summary.errors).toEqual([{ row: 8, column: "phone_number", value: "bad", message: expect.stringContaining("not a valid phone number") }]);
  });

  it("reports invalid rows with their file line across quoted line breaks and chunk boundaries", async () => {
    const lines = ["phone_number,notes"];
    for (let i = 0; i < 40; i++) lines.push(i % 7 === 3 ? `+1212555${1000 + i},"multi\nline\nnote"` : i % 5 === 4 ? `bad${i},x` : `+1212555${1000 + i},plain`);
    const text = lines.join("\n");
    const expected: number[] = [];
    let line = 2;
    for (let i = 0; i < 40; i++) {
      if (i % 7 !== 3 && i % 5 === 4) expected.push(line);
      line += i % 7 === 3 ? 3 : 1;
    }
    for (const chunkChars of [16, 64, 1 << 20]) {
      for (const ending of ["", "\n"]) {
        const { result } = await scan(text + ending, { chunkChars });
        expect(result.ok && result.summary.errors.map((e) => e.row), `chunk ${chunkChars}`).toEqual(expected);
      }
    }
    // a final chunk whose only line break sits inside a quoted field
    const { result } = await scan('phone_number,notes\n+12125551000,"a\nb"\nbad,x\n', { chunkChars: 1 << 20 });
    expect(result.ok && result.summary.errors.map((e) => e.row)).toEqual([4]);
  });

  it("reports real file lines after a sep= line, across chunks and quoted line breaks", async () => {
    const lines = ["sep=;", "phone_number;notes"];
    const want: number[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 4 === 1) lines.push(`${phone(i)};"two\nlines"`);
      else if (i % 6 === 5) {
        want.push(lines.length + 1 + lines.filter((l) => l.includes("\n")).length);
        lines.push(`bad${i};x`);
      } else lines.push(`${phone(i)};x`);
    }
    for (const chunkChars of [1, 16, 1 << 20]) {
      const { result } = await scan(lines.join("\n"), { chunkChars });
      expect(result.ok && result.summary.errors.map((e) => e.row), `chunk ${chunkChars}`).toEqual(want);
    }
    const crlf = await scan("sep=,\r\nphone_number,email\r\n\r\n+12125550101,broken@\r\n");
    expect(crlf.result.ok && crlf.result.summary.errors.map((e) => [e.row, e.column])).toEqual([[4, "email"]]);
  });

  it("reports an unclosed quote as an invalid row", async () => {
    const { result } = await scan('phone_number,notes\n+12125550101,"never closed\n+12125550102,x\n');
    expect(result.ok && result.summary.errors[0]).toMatchObject({ row: 2, message: expect.stringContaining("quoted field") });
  });
});
