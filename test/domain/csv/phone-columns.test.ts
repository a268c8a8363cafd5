import { describe, expect, it } from "vitest";
import { MORE_PHONE_COLUMNS, type SliceEntry } from "../../../src/domain/csv";
import { scan, scanWhole } from "./helpers";

/** Every entry the scan handed over, as the sink got it. */
async function entries(csv: string, opts: Parameters<typeof scan>[1] = {}): Promise<SliceEntry[]> {
  const { result, slices } = await scanWhole(csv, opts);
  expect(result.ok).toBe(true);
  return slices.flatMap((s) => JSON.parse(s.json) as SliceEntry[]);
}

describe("a recipient's other numbers: phone_number_2 … phone_number_5", () => {
  it("names the four columns after phone_number, in the order attempts go through them", () => {
    expect(MORE_PHONE_COLUMNS).toEqual(["phone_number_2", "phone_number_3", "phone_number_4", "phone_number_5"]);
  });

  it.each([["phone_number,phone_number_2"], ["Phone Number,Phone Number 2"], ["PHONE-NUMBER, phone-number-2 "], ["\uFEFFphone number,phone  number 2"]])(
    "reads the header %j as phone_number and phone_number_2",
    async (header) => {
      const rows = await entries(`${header}\n+12125550101,(312) 555-0199\n`);
      expect(rows).toEqual([[0, "+12125550101", ["+12125550101", "(312) 555-0199"], ["+12125550101", "+13125550199"]]]);
    },
  );

  it("gives the numbers in column order 2 to 5, whatever the file's order, each normalised as phone_number is", async () => {
    const csv =
      "phone_number_4,name,phone_number,phone_number_2,phone_number_5,phone_number_3\n" + "020 7946 0958,Ann,07911 123456,+1 212 555 0101,,+33 1 23 45 67 89\n";
    const rows = await entries(csv, { defaultCountry: "GB" });
    expect(rows).toEqual([
      [
        0,
        "+447911123456",
        ["020 7946 0958", "Ann", "07911 123456", "+1 212 555 0101", "", "+33 1 23 45 67 89"],
        ["+447911123456", "+12125550101", "+33123456789", "+442079460958"],
      ],
    ]);
  });

  it("keeps the old three-element entry for a row whose only number is phone_number, columns or not", async () => {
    const rows = await entries("phone_number,phone_number_2,phone_number_3,note\n+12125550101,,  ,a\n+12125550102,\u200B,,b\n");
    expect(rows).toEqual([
      [0, "+12125550101", ["+12125550101", "", "  ", "a"]],
      // An invisible character alone is no number, and is not stored.
      [1, "+12125550102", ["+12125550102", "", "", "b"]],
    ]);
    expect(await entries("phone_number,note\n+12125550101,a\n")).toEqual([[0, "+12125550101", ["+12125550101", "a"]]]);
  });

  it("keeps a number repeated within the row once, however it is written", async () => {
    const rows = await entries(
      "phone_number,phone_number_2,phone_number_3,phone_number_4\n" +
        "+12125550101,(212) 555-0101,312-555-0199,+1 312 555 0199\n" +
        "+12125550102,212.555.0102,,\n",
    );
    expect(rows.map((r) => r[3])).toEqual([["+12125550101", "+13125550199"], undefined]);
    // The cells stay as the file had them.
    expect(rows[0]![2]).toEqual(["+12125550101", "(212) 555-0101", "312-555-0199", "+1 312 555 0199"]);
  });

  it("reports a value that is not a number as the row's error, naming its column, as phone_number's are", async () => {
    const csv = [
      "phone_number,phone_number_2,phone_number_3",
      "+12125550101,+13125550199,12",
      "+12125550102,nope,",
      "+12125550103,,\u200B+1 (312) 555-01\u200B",
      "x,,",
      "+12125550104,+13125550104,+13125550105",
    ].join("\n");
    const { result, rows } = await scan(csv);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const message = "not a valid phone number (numbers without + are read as US)";
    expect(result.summary.errors).toEqual([
      { row: 2, column: "phone_number_3", value: "12", message },
      { row: 3, column: "phone_number_2", value: "nope", message },
      { row: 4, column: "phone_number_3", value: "+1 (312) 555-01", message },
      { row: 5, column: "phone_number", value: "x", message },
    ]);
    expect(result.summary).toMatchObject({ dataRows: 5, validRows: 1, invalidRows: 4 });
    expect(rows).toEqual([[0, "+12125550104", ["+12125550104", "+13125550104", "+13125550105"], ["+12125550104", "+13125550104", "+13125550105"]]]);
  });

  it("still requires phone_number: another number does not stand in for it", async () => {
    const { result } = await scan("phone_number,phone_number_2\n,+13125550199\n");
    expect(result.ok && result.summary.errors).toEqual([{ row: 2, column: "phone_number", value: "", message: "phone_number is empty" }]);
  });

  it("decides duplicates across rows by phone_number alone", async () => {
    const { result, rows } = await scan(
      "phone_number,phone_number_2\n+12125550101,+13125550199\n+13125550199,+12125550101\n(212) 555-0101,+14155550100\n+12125550102,+13125550199\n",
    );
    expect(result.ok && result.summary).toMatchObject({ validRows: 3, duplicatesRemoved: 1 });
    expect(rows.map((r) => r[1])).toEqual(["+12125550101", "+13125550199", "+12125550102"]);
  });

  it("reads phone_number_6 and beyond as ordinary columns", async () => {
    const rows = await entries("phone_number,phone_number_6,phone_number_10,phone_number2\n+12125550101,not a number,x,y\n");
    expect(rows).toEqual([[0, "+12125550101", ["+12125550101", "not a number", "x", "y"]]]);
  });

  it("carries the numbers in the numbers-only slices intake's do-not-call check reads", async () => {
    const rows = await entries("phone_number,phone_number_2,note\n+12125550101,+13125550199,a\n+12125550102,,b\n", { withValues: false });
    expect(rows).toEqual([
      [0, "+12125550101", null, ["+12125550101", "+13125550199"]],
      [1, "+12125550102"],
    ]);
  });
});
