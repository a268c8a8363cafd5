import { describe, expect, it } from "vitest";
import { MAX_REPORTED_ERRORS } from "../../../src/domain/csv";
import { phone, scan } from "./helpers";

describe("the summary", () => {
  it("drops duplicate numbers after normalisation and counts them", async () => {
    const csv = "phone_number\n+12125550101\n(212) 555-0101\n212-555-0102\n+1 212 555 0102\n";
    const { result, rows } = await scan(csv);
    expect(result.ok && result.summary.duplicatesRemoved).toBe(2);
    expect(rows.map((r) => r[1])).toEqual(["+12125550101", "+12125550102"]);
  });

  it("counts every invalid row of a file of junk exactly, in reject mode too, when each is cheap to judge", async () => {
    const csv = `phone_number\n${"1\n".repeat(3 * MAX_REPORTED_ERRORS)}${phone(1)}\n`;
    for (const stopOnInvalid of [true, false]) {
      const { result } = await scan(csv, { stopOnInvalid, chunkChars: 1 << 20 });
      expect(result.ok && result.summary).toMatchObject({
        dataRows: 3 * MAX_REPORTED_ERRORS + 1,
        invalidRows: 3 * MAX_REPORTED_ERRORS,
        invalidRowsIsLowerBound: false,
        validRows: 1,
      });
      expect(result.ok && result.summary.errors).toHaveLength(MAX_REPORTED_ERRORS);
    }
  });

  it("cuts long values echoed into row errors", async () => {
    const { result } = await scan(`phone_number\n${"9".repeat(500)}\n`);
    expect(result.ok && result.summary.errors[0]?.value).toBe(`${"9".repeat(80)}…`);
  });
});
