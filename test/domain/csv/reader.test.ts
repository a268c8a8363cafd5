import { describe, expect, it } from "vitest";
import { phone, scan, utf16 } from "./helpers";

describe("reading the bytes as text", () => {
  it("handles a UTF-8 BOM given as bytes and a last line without a newline", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("phone_number\n+12125550101")]);
    const { result, rows } = await scan(bytes);
    expect(result.ok && result.summary.columns).toEqual(["phone_number"]);
    expect(rows.map((r) => r[1])).toEqual(["+12125550101"]);
  });

  it("refuses text that is not UTF-8", async () => {
    const { result } = await scan(new Uint8Array([...new TextEncoder().encode("phone_number,name\n+12125550101,"), 0xff, 0xfe, 0x0a]));
    expect(result).toEqual({ ok: false, message: expect.stringContaining("UTF-8") });
  });

  it("refuses UTF-16 with or without a byte order mark with the same encoding message", async () => {
    const csv = "phone_number,first_name\r\n+12125550101,Ann\r\n";
    const messages = new Set<string>();
    for (const endian of ["le", "be"] as const) {
      for (const bom of [true, false]) {
        for (const piece of [1, 7]) {
          const { result } = await scan(utf16(csv, endian, bom), {}, piece);
          expect(result.ok, `${endian} bom=${bom}`).toBe(false);
          if (!result.ok) messages.add(result.message);
        }
      }
    }
    expect([...messages]).toEqual([expect.stringContaining("UTF-16")]);
    expect([...messages][0]).toContain("save it as UTF-8");
  });

  it("still reads files of one or two bytes, and UTF-8 with a BOM, after looking at the first bytes", async () => {
    expect((await scan("p", {}, 1)).result).toEqual({ ok: false, message: expect.stringContaining("no phone_number column") });
    expect((await scan("", {}, 1)).result).toEqual({ ok: false, message: expect.stringContaining("empty") });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`phone_number\n${phone(1)}\n`)]);
    const { result, rows } = await scan(bom, {}, 1);
    expect(result.ok && result.summary.columns).toEqual(["phone_number"]);
    expect(rows).toEqual([[0, phone(1), [phone(1)]]]);
  });

  it("reads a row many chunks long in time linear in its length", { timeout: 10_000 }, async () => {
    // Re-parsing the unfinished row at every read would take minutes here.
    const csv = `phone_number,notes\n${phone(1)},"${"z".repeat(6 * 1024 * 1024)}"\n${phone(2)},ok\n`;
    const { result, rows } = await scan(csv, { chunkChars: 64 * 1024 }, 4096);
    expect(rows.map((r) => r[1])).toEqual([phone(2)]);
    expect(result.ok && result.summary.errors.map((e) => [e.row, e.column])).toEqual([[2, "notes"]]);
  });
});
