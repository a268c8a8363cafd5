import parsePhoneNumberFromString from "libphonenumber-js/min";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_REPORTED_ERRORS } from "../../../src/domain/csv";
import { CELL_MAX_BYTES, ROW_MAX_BYTES } from "../../../src/domain/csv/limits";
import { UNLISTED_LOOKUPS, isIanaTimeZone } from "../../../src/domain/timezone";
import { phone, scan } from "./helpers";

// Intl's time zone check, counted (the one check of the scan that can cost tens of µs): every lookup builds a DateTimeFormat.
const zoneLookups = vi.spyOn(Intl, "DateTimeFormat");
const zonesAsked = () => zoneLookups.mock.calls.map((c) => (c[1] as Intl.DateTimeFormatOptions | undefined)?.timeZone);
afterAll(() => zoneLookups.mockRestore());

// The phone library's general path, counted: the scan never needs it.
vi.mock("libphonenumber-js/min", async (importOriginal) => {
  const lib = await importOriginal<typeof import("libphonenumber-js/min")>();
  return { ...lib, default: vi.fn(lib.default) };
});
const phoneLibraryCalls = vi.mocked(parsePhoneNumberFromString);

describe("row rules", () => {
  it("reports each invalid row with its file line, column and value", async () => {
    const csv = [
      "phone_number,email,timezone",
      "+12125550101,ok@example.com,America/New_York",
      ",x@example.com,",
      "+12125550102,not-an-email,",
      "+12125550103,,Mars/Olympus",
      '"+1212555',
      '0104",,',
      "+12125550105,,,extra",
      "12,,",
    ].join("\n");
    const { result } = await scan(csv);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.summary.invalidRows).toBe(6);
    expect(result.summary.errors.map((e) => [e.row, e.column, e.value])).toEqual([
      [3, "phone_number", ""],
      [4, "email", "not-an-email"],
      [5, "timezone", "Mars/Olympus"],
      [6, "phone_number", "+1212555\n0104"],
      [8, null, null],
      [9, "phone_number", "12"],
    ]);
  });

  it("uses defaultCountry for numbers without +", async () => {
    const { rows } = await scan("phone_number\n020 7946 0958\n", { defaultCountry: "GB" });
    expect(rows.map((r) => r[1])).toEqual(["+442079460958"]);
  });

  it("reads, stores and echoes phone_number without invisible characters", async () => {
    const csv =
      "phone_number,name\n" +
      "\u200F+1 212 555 0101\u200B,RTL mark\n" +
      "\u2066(212)\u00AD555-0102\u2069,isolates\n" +
      "\u202E12\u200B,too short\n" +
      "\u200B\u2060,invisible only\n";
    const { result, rows } = await scan(csv);
    expect(rows).toEqual([
      [0, "+12125550101", ["+1 212 555 0101", "RTL mark"]],
      [1, "+12125550102", ["(212)555-0102", "isolates"]],
    ]);
    expect(result.ok && result.summary.errors).toEqual([
      { row: 4, column: "phone_number", value: "12", message: expect.stringContaining("not a valid phone number") },
      { row: 5, column: "phone_number", value: "", message: "phone_number is empty" },
    ]);
  });

  it('judges an email address as the pattern ^[^\\s@",;<>]+@[^\\s@",;<>]+\\.[^\\s@",;<>]+$ does', async () => {
    const pattern = /^[^\s@",;<>]+@[^\s@",;<>]+\.[^\s@",;<>]+$/;
    // Every string of up to 6 of these characters, and long ones of the shape that makes the pattern backtrack.
    const emails: string[] = [];
    const grow = (s: string) => {
      emails.push(s);
      if (s.length < 6) for (const c of ["a", ".", "@", " ", "<", "\u00A0"]) grow(s + c);
    };
    grow("");
    for (let i = 0; i < 20; i++) emails.push(`a@${"b.".repeat(120)}${i}<`, `a@${"b.".repeat(120)}${i}`, `a@${"b".repeat(240)}.${i}`);
    const rows = emails.map((e, i) => `${phone(i)},${e}`);
    const want = emails.filter((e) => {
      const t = e.trim();
      return t !== "" && (t.length > 254 || !pattern.test(t));
    }).length;
    const { result } = await scan(`phone_number,email\n${rows.join("\n")}\n`, { chunkChars: 1 << 20, sliceRows: 4000 });
    expect(result.ok && result.summary).toMatchObject({ dataRows: emails.length, invalidRows: want });
    expect(want).toBeGreaterThan(1000);
    expect(emails.length - want).toBeGreaterThan(100);
  });
});

describe("size limits", () => {
  it("makes a cell over CELL_MAX_BYTES an invalid row naming line and column, without echoing the value", async () => {
    const csv = `phone_number,notes\n${phone(1)},ok\n${phone(2)},${"x".repeat(CELL_MAX_BYTES + 1)}\n${phone(3)},${"x".repeat(CELL_MAX_BYTES)}\n`;
    const { result, rows } = await scan(csv, { chunkChars: 1 << 20 }, 4096);
    expect(rows.map((r) => r[1])).toEqual([phone(1), phone(3)]);
    expect(result.ok && result.summary.errors).toEqual([
      { row: 3, column: "notes", value: null, message: `the value is 65,537 bytes long; a cell may hold at most 65,536 bytes (64 KiB)` },
    ]);
  });

  it("counts UTF-8 bytes, not characters", async () => {
    // "é" is 2 bytes, "😀" 4 (two UTF-16 units): each cell below is at or just over the limit in bytes.
    const at = "é".repeat(CELL_MAX_BYTES / 2);
    const over = `${"é".repeat(CELL_MAX_BYTES / 2 - 1)}😀`;
    const csv = `phone_number,notes\n${phone(1)},${at}\n${phone(2)},${over}\n`;
    const { result, rows } = await scan(csv, { chunkChars: 1 << 20 }, 4096);
    expect(rows.map((r) => r[1])).toEqual([phone(1)]);
    expect(result.ok && result.summary.errors.map((e) => [e.row, e.column, e.message])).toEqual([
      [3, "notes", expect.stringContaining(`${(CELL_MAX_BYTES + 2).toLocaleString("en-US")} bytes long`)],
    ]);
  });

  it("makes a row over ROW_MAX_BYTES in all an invalid row with no column", async () => {
    const cell = "y".repeat(CELL_MAX_BYTES - 100);
    const csv = `phone_number,a,b,c\n${phone(1)},${cell},${cell},x\n${phone(2)},${cell},${cell},${cell}\n`;
    const { result, rows } = await scan(csv, { chunkChars: 1 << 20 }, 4096);
    expect(rows.map((r) => r[1])).toEqual([phone(1)]);
    expect(result.ok && result.summary.errors).toEqual([
      { row: 3, column: null, value: null, message: expect.stringContaining(`a row may hold at most ${ROW_MAX_BYTES.toLocaleString("en-US")} bytes`) },
    ]);
  });
});

describe("hostile files", () => {
  describe("in reject mode, once the details are full", () => {
    beforeEach(() => {
      zoneLookups.mockClear();
    });

    // "1 212 555 01xx" carries the US national prefix and is then too short: judged without the library, like every number.
    const costly = (i: number) => `1 212 555 ${String(i).padStart(2, "0")}`;

    it("stops asking Intl about time zones and says the count is a lower bound; a dry run or skip counts them all", async () => {
      const lines = ["phone_number,timezone"];
      for (let i = 0; i < MAX_REPORTED_ERRORS; i++) lines.push(`1,`);
      for (let i = 0; i < 20; i++) lines.push(`${costly(i)},`);
      for (let i = 0; i < 5; i++) lines.push(`${phone(i)},America/Unseen${i}`);
      lines.push("12,", `${phone(9)},not a zone`, `${phone(10)},Zone/Unseen`);
      const csv = `${lines.join("\n")}\n`;

      const reject = await scan(csv, { stopOnInvalid: true });
      expect(reject.result.ok && reject.result.summary).toMatchObject({
        invalidRows: MAX_REPORTED_ERRORS + 20 + 3,
        invalidRowsIsLowerBound: true,
      });
      expect(zoneLookups).not.toHaveBeenCalled();

      const all = await scan(csv, { stopOnInvalid: false });
      expect(all.result.ok && all.result.summary).toMatchObject({
        invalidRows: MAX_REPORTED_ERRORS + 20 + 5 + 3,
        invalidRowsIsLowerBound: false,
      });
      expect(all.result.ok && all.result.summary.errors).toHaveLength(MAX_REPORTED_ERRORS);
    });

    it("still judges what needs no lookup: every number, a canonical zone, a zone asked about before", async () => {
      const lines = ["phone_number,timezone", `${costly(1)},`, `${phone(1)},US/Eastern`];
      for (let i = 0; i < MAX_REPORTED_ERRORS; i++) lines.push("1,");
      lines.push(`${costly(2)},`, `${phone(2)},us/eastern`, `${phone(3)},america/new_york`, `${phone(4)},Zone/Seen`);
      const { result } = await scan(`${lines.join("\n")}\n`, { stopOnInvalid: true });
      expect(result.ok && result.summary).toMatchObject({ invalidRows: MAX_REPORTED_ERRORS + 3, invalidRowsIsLowerBound: false, validRows: 3 });
      expect(zonesAsked()).toEqual(["US/Eastern"]);
    });

    it("hands no slice to the sink and gives a materialising scan the same valid rows as before", async () => {
      const lines = ["phone_number"];
      for (let i = 0; i < MAX_REPORTED_ERRORS; i++) lines.push("1");
      for (let i = 0; i < 6; i++) lines.push(costly(i), phone(i));
      const csv = `${lines.join("\n")}\n`;
      expect((await scan(csv, { stopOnInvalid: true })).rows).toEqual([]);
      const { rows } = await scan(csv, { stopOnInvalid: false });
      expect(rows.map((r) => r[1])).toEqual(Array.from({ length: 6 }, (_, i) => phone(i)));
    });
  });

  describe("time zones", () => {
    beforeEach(() => {
      zoneLookups.mockClear();
    });

    it("accepts canonical names in any case without asking Intl, asks once per file about a link, and refuses values no zone looks like", async () => {
      const rows = [
        `${phone(1)},America/New_York`,
        `${phone(2)},america/new_york`,
        `${phone(3)},US/Eastern`,
        `${phone(4)},us/eastern`,
        `${phone(5)},not a zone`,
        `${phone(6)},${"x".repeat(65)}`,
        `${phone(7)},Zone/Nowhere`,
        `${phone(8)},Mars/Base`,
      ];
      const { result } = await scan(`phone_number,timezone\n${rows.join("\n")}\n`);
      expect(result.ok && result.summary).toMatchObject({ validRows: 4, invalidRows: 4 });
      expect(zonesAsked()).toEqual(["US/Eastern"]);
    });

    it(`asks Intl about at most ${UNLISTED_LOOKUPS} unlisted names under a known area per file`, async () => {
      const rows = Array.from({ length: 300 }, (_, i) => `${phone(i)},America/Nowhere${i}`);
      const { result } = await scan(`phone_number,timezone\n${rows.join("\n")}\n`, { chunkChars: 1 << 20, sliceRows: 4000 });
      expect(result.ok && result.summary).toMatchObject({ validRows: 0, invalidRows: 300 });
      expect(zoneLookups).toHaveBeenCalledTimes(UNLISTED_LOOKUPS);
    });
  });

  describe("a file of distinct junk, in skip mode (every row judged)", () => {
    beforeEach(() => {
      zoneLookups.mockClear();
      phoneLibraryCalls.mockClear();
    });

    it("counts every row exactly without the phone library's general path and with a bounded number of zone lookups", async () => {
      // Offset time zones: workerd accepts them, Node 20 does not.
      const offsets = isIanaTimeZone("+05:30");
      zoneLookups.mockClear();
      // NANP numbers whose area code starts with 1 (none is valid), numbers with distinct extensions (all valid),
      // distinct zone-like junk, a listed link and an offset.
      const rows: string[] = [];
      for (let i = 0; i < 2000; i++) rows.push(`1${String(i * 7919).padStart(9, "0")},`);
      for (let i = 0; i < 500; i++) rows.push(`${phone(i)} x${i},`);
      for (let i = 0; i < 500; i++) rows.push(`${phone(1000 + i)},${i % 2 ? "Zone" : "Europe"}/Junk${i}`);
      for (let i = 0; i < 100; i++) rows.push(`${phone(2000 + i)},${i % 2 ? "US/Pacific" : "+05:30"}`);
      const { result } = await scan(`phone_number,timezone\n${rows.join("\n")}\n`, { chunkChars: 1 << 20, sliceRows: 4000 });
      expect(result.ok && result.summary).toMatchObject({
        dataRows: 3100,
        invalidRows: 2000 + 500 + (offsets ? 0 : 50),
        validRows: 500 + 100 - (offsets ? 0 : 50),
        invalidRowsIsLowerBound: false,
      });
      expect(phoneLibraryCalls).not.toHaveBeenCalled();
      expect(zoneLookups.mock.calls.length).toBeLessThanOrEqual(UNLISTED_LOOKUPS + 3);
    });
  });
});
