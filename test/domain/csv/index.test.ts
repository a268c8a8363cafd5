import { describe, expect, it } from "vitest";
import { scanCsv } from "../../../src/domain/csv";
import { scan, streamOf } from "./helpers";

describe("scanCsv", () => {
  it("reads BOM, CRLF, quoted commas, doubled quotes and quoted newlines, keeping values verbatim", async () => {
    const csv =
      "\uFEFFPhone Number,First Name,Notes\r\n" +
      '+12125550101,Ann,"likes, commas"\r\n' +
      '(212) 555-0102,"Bob ""B""","two\r\nlines"\r\n' +
      "212.555.0103,Cy,plain\r\n";
    const { result, rows } = await scan(csv);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.summary.columns).toEqual(["phone_number", "first_name", "notes"]);
    expect(rows).toEqual([
      [0, "+12125550101", ["+12125550101", "Ann", "likes, commas"]],
      [1, "+12125550102", ["(212) 555-0102", 'Bob "B"', "two\r\nlines"]],
      [2, "+12125550103", ["212.555.0103", "Cy", "plain"]],
    ]);
  });

  it("reports a header-only file as zero data rows", async () => {
    const { result } = await scan("phone_number,first_name\n");
    expect(result.ok && result.summary.dataRows).toBe(0);
  });
});

describe("what intake asks of the scan", () => {
  const text = "phone_number,first_name\n+12125550101,Ann\nbad,Bob\n+12125550101,Ann again\n(212) 555-0102,Cy\n";

  it("without a sink checks the file the same way and serialises nothing", async () => {
    const full = await scan(text);
    const bare = await scanCsv(streamOf(text), { defaultCountry: "US", stopOnInvalid: false, chunkChars: 16, sliceRows: 2 }, null);
    expect(bare).toEqual(full.result);
  });

  it("withValues: false hands over [seq, e164] only, with the seqs the full scan gives", async () => {
    const full = await scan(text);
    const short = await scan(text, { withValues: false });
    expect(short.result).toEqual(full.result);
    expect(short.rows).toEqual(full.rows.map(([seq, e164]) => [seq, e164]));
    expect(short.rows).toEqual([
      [0, "+12125550101"],
      [1, "+12125550102"],
    ]);
  });
});
