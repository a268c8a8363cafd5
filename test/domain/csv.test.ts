import parsePhoneNumberFromString from "libphonenumber-js/min";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_REPORTED_ERRORS, normalizeHeader, scanCsv, type CsvScanOptions } from "../../src/domain/csv";
import { CELL_MAX_BYTES, MAX_COLUMNS, ROW_MAX_BYTES, SLICE_MAX_BYTES, SLICE_MAX_ROWS } from "../../src/domain/csv-limits";
import { UNLISTED_LOOKUPS, isIanaTimeZone } from "../../src/domain/timezone";

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

type Row = [number, string, string[]];

function streamOf(text: string | Uint8Array, pieceBytes = 7): ReadableStream<Uint8Array> {
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
async function scan(text: string | Uint8Array, opts: Partial<CsvScanOptions> = {}, pieceBytes = 7) {
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

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Scans with the production chunk and slice sizes, keeping each slice's JSON text. */
async function scanWhole(text: string, opts: Partial<CsvScanOptions> = {}) {
  const slices: { json: string; rows: number }[] = [];
  const result = await scanCsv(streamOf(text, 64 * 1024), { defaultCountry: "US", stopOnInvalid: false, ...opts }, async (json, rows) => {
    slices.push({ json, rows });
  });
  return { result, slices };
}

function phone(i: number): string {
  return `+1212${String(5550000 + i).padStart(7, "0")}`;
}

describe("normalizeHeader", () => {
  it("trims, lower-cases and turns spaces and hyphens into _", () => {
    expect(normalizeHeader(" Phone Number ")).toBe("phone_number");
    expect(normalizeHeader("First-Name")).toBe("first_name");
    expect(normalizeHeader("\uFEFFphone_number")).toBe("phone_number");
    expect(normalizeHeader("Account  ID")).toBe("account_id");
  });
});

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

  it("reads CR-only line endings, and CRLF split between two reads", async () => {
    const cr = await scan("phone_number,abc\r+12125550101,x\r+12125550102,y\rbad,z\r");
    expect(cr.rows.map((r) => [r[1], r[2]])).toEqual([
      ["+12125550101", ["+12125550101", "x"]],
      ["+12125550102", ["+12125550102", "y"]],
    ]);
    expect(cr.result.ok && cr.result.summary.errors.map((e) => e.row)).toEqual([4]);
    const split = await scan("phone_number,abc\r\n+12125550101,x\r\n", {}, 17);
    expect(split.rows.map((r) => r[2])).toEqual([["+12125550101", "x"]]);
  });

  it("handles a UTF-8 BOM given as bytes and a last line without a newline", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("phone_number\n+12125550101")]);
    const { result, rows } = await scan(bytes);
    expect(result.ok && result.summary.columns).toEqual(["phone_number"]);
    expect(rows.map((r) => r[1])).toEqual(["+12125550101"]);
  });

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

  it("drops duplicate numbers after normalisation and counts them", async () => {
    const csv = "phone_number\n+12125550101\n(212) 555-0101\n212-555-0102\n+1 212 555 0102\n";
    const { result, rows } = await scan(csv);
    expect(result.ok && result.summary.duplicatesRemoved).toBe(2);
    expect(rows.map((r) => r[1])).toEqual(["+12125550101", "+12125550102"]);
  });

  it("uses defaultCountry for numbers without +", async () => {
    const { rows } = await scan("phone_number\n020 7946 0958\n", { defaultCountry: "GB" });
    expect(rows.map((r) => r[1])).toEqual(["+442079460958"]);
  });

  it("hands rows over in slices and stops handing them once a row is invalid when asked", async () => {
    const csv = "phone_number\n+12125550101\n+12125550102\n+12125550103\nnope\n+12125550104\n+12125550105\n";
    const all = await scan(csv);
    expect(all.slices).toEqual([2, 2, 1]);
    const stopped = await scan(csv, { stopOnInvalid: true });
    expect(stopped.rows.map((r) => r[1])).toEqual(["+12125550101", "+12125550102"]);
    expect(stopped.result.ok && stopped.result.summary.invalidRows).toBe(1);
  });

  it("reports an unclosed quote as an invalid row", async () => {
    const { result } = await scan('phone_number,notes\n+12125550101,"never closed\n+12125550102,x\n');
    expect(result.ok && result.summary.errors[0]).toMatchObject({ row: 2, message: expect.stringContaining("quoted field") });
  });

  it.each([
    ["", "the file is empty"],
    ["\n\n", "the file is empty"],
    ["first_name,last_name\nAnn,Lee\n", "no phone_number column"],
    ["phone_number,Phone-Number\n+12125550101,x\n", "twice"],
    ["phone_number,,notes\n", "has no name"],
  ])("refuses a bad header %j", async (csv, message) => {
    const { result } = await scan(csv);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it("refuses text that is not UTF-8", async () => {
    const { result } = await scan(new Uint8Array([...new TextEncoder().encode("phone_number,name\n+12125550101,"), 0xff, 0xfe, 0x0a]));
    expect(result).toEqual({ ok: false, message: expect.stringContaining("UTF-8") });
  });

  it("reports a header-only file as zero data rows", async () => {
    const { result } = await scan("phone_number,first_name\n");
    expect(result.ok && result.summary.dataRows).toBe(0);
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

describe("spreadsheet dialects", () => {
  const expected = [
    [0, "+12125550101", ["+12125550101", "Ann", "Köln"]],
    [1, "+12125550102", ["+12125550102", "Bob", "Paris"]],
  ];

  it.each([
    ["semicolons", ";"],
    ["tabs", "\t"],
    ["pipes", "|"],
    ["commas", ","],
  ])("detects %s from the header", async (_name, d) => {
    const csv = [
      ["Phone Number", "First Name", "City"],
      ["+12125550101", "Ann", "Köln"],
      ["+12125550102", "Bob", "Paris"],
    ]
      .map((r) => r.join(d))
      .join("\r\n");
    const { result, rows } = await scan(csv);
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "first_name", "city"]);
    expect(rows).toEqual(expected);
  });

  it("counts delimiters outside quotes only, and keeps other delimiters inside quoted fields", async () => {
    // Three commas and a pipe inside the quoted header name; one semicolon outside.
    const csv = 'phone_number;"Notes, remarks, etc., | misc"\n+12125550101;"a, b | c; d"\n+12125550102;plain, with comma\n';
    const { result, rows } = await scan(csv);
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "notes,_remarks,_etc.,_|_misc"]);
    expect(rows.map((r) => r[2])).toEqual([
      ["+12125550101", "a, b | c; d"],
      ["+12125550102", "plain, with comma"],
    ]);
    const commas = await scan('phone_number,notes\n+12125550101,"x;y;z|w\tv"\n');
    expect(commas.rows.map((r) => r[2])).toEqual([["+12125550101", "x;y;z|w\tv"]]);
  });

  it("lets commas win a tie, and reads a one-column file", async () => {
    const tie = await scan("phone_number,a;b\n+12125550101,x;y\n");
    expect(tie.result.ok && tie.result.summary.columns).toEqual(["phone_number", "a;b"]);
    const one = await scan("phone_number\n+12125550101\n");
    expect(one.rows.map((r) => r[2])).toEqual([["+12125550101"]]);
  });

  it("reads the delimiter off the first non-blank line", async () => {
    const { result, rows } = await scan("\n;;\n  \nphone_number;name\n+12125550101;Ann\n");
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "name"]);
    expect(rows.map((r) => r[2])).toEqual([["+12125550101", "Ann"]]);
  });

  it("honours an Excel sep= line after a BOM and before CRLF, and does not take it for the header", async () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode("sep=;\r\nphone_number;first_name;city\r\n+12125550101;Ann;Köln\r\n+12125550102;Bob;Paris\r\n"),
    ]);
    for (const [piece, chunkChars] of [
      [7, 16],
      [1, 1],
      [1 << 20, 1 << 20],
    ] as const) {
      const { result, rows } = await scan(bytes, { chunkChars }, piece);
      expect(result.ok && result.summary.columns, `pieces of ${piece}`).toEqual(["phone_number", "first_name", "city"]);
      expect(rows).toEqual(expected);
    }
  });

  it.each([
    ["sep=|", "|"],
    ["SEP=\t", "\t"],
    ["sep=;", ";"],
  ])("honours %j even where the header would suggest another delimiter", async (sep, d) => {
    // The header alone has more commas than anything: sep= decides.
    const { result, rows } = await scan(`${sep}\nphone_number${d}"a,b,c"\n+12125550101${d}x,y\n`);
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "a,b,c"]);
    expect(rows.map((r) => r[2])).toEqual([["+12125550101", "x,y"]]);
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

  it("treats a file that is only a sep= line as empty", async () => {
    for (const csv of ["sep=;", "sep=;\r\n", "sep=;\n\n"]) {
      const { result } = await scan(csv);
      expect(result).toEqual({ ok: false, message: expect.stringContaining("the file is empty") });
    }
  });

  it("drops empty trailing header columns with their empty cells", async () => {
    const csv = "phone_number,first_name,,\n+12125550101,Ann,,\n+12125550102,Bob\n+12125550103,Cy, ,\n+12125550104,Di,,,,\n";
    const { result, rows } = await scan(csv);
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "first_name"]);
    expect(result.ok && result.summary.invalidRows).toBe(0);
    expect(rows.map((r) => r[2])).toEqual([
      ["+12125550101", "Ann"],
      ["+12125550102", "Bob"],
      ["+12125550103", "Cy"],
      ["+12125550104", "Di"],
    ]);
  });

  it("refuses a value under a dropped column, or past the header, naming the line", async () => {
    const csv = "phone_number;first_name;;\n+12125550101;Ann;;\n+12125550102;Bob;;oops\n+12125550103;Cy;x\n+12125550104;Di;;;late\n";
    const { result, rows } = await scan(csv);
    expect(rows.map((r) => r[1])).toEqual(["+12125550101"]);
    expect(result.ok && result.summary.errors).toEqual([
      { row: 3, column: null, value: null, message: expect.stringContaining("column 4 has no name in the header") },
      { row: 4, column: null, value: null, message: expect.stringContaining("column 3 has no name in the header") },
      { row: 5, column: null, value: null, message: "the row has 5 fields but the header has 2" },
    ]);
  });

  it("still refuses an empty header column between named ones", async () => {
    const { result } = await scan("phone_number;;notes;;\n");
    expect(result).toEqual({ ok: false, message: "header column 2 has no name" });
  });
});

describe("a header without phone_number", () => {
  it("names the columns it found, cutting a long list and long names", async () => {
    const few = await scan("name,email,plan\nAnn,a@example.com,gold\n");
    expect(few.result).toEqual({
      ok: false,
      message: 'the header has no phone_number column (a column named "phone_number" or "Phone Number"); it has 3 columns: "name", "email", "plan"',
    });
    const many = await scan(`${["Tel", "x".repeat(500), ...Array.from({ length: 20 }, (_, i) => `c${i}`)].join(",")}\n`);
    expect(many.result.ok).toBe(false);
    if (many.result.ok) return;
    expect(many.result.message).toContain(`it has 22 columns: "Tel", "${"x".repeat(40)}…", "c0"`);
    expect(many.result.message).toMatch(/"c5" and 14 more$/);
    expect(many.result.message.length).toBeLessThan(400);
  });

  it("says when the header looks separated by another delimiter than the one it was read with", async () => {
    const sep = await scan("sep=,\nphone_number;first_name\n+12125550101;Ann\n");
    expect(sep.result.ok).toBe(false);
    if (!sep.result.ok) {
      expect(sep.result.message).toContain('it has 1 column: "phone_number;first_name"');
      expect(sep.result.message).toContain("looks separated by semicolons, but it was read as separated by commas (as the file's sep= line says)");
    }
    // More commas than semicolons, but only the semicolon split finds phone_number.
    const mixed = await scan("Phone Number;First Name,Middle,Last\n");
    expect(mixed.result.ok || mixed.result.message).toContain("looks separated by semicolons, but it was read as separated by commas");
    const none = await scan("name,email\n");
    expect(none.result.ok || none.result.message).not.toContain("looks separated");
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

  it("holds the header to the same limits", async () => {
    const { result } = await scan(`phone_number,${"h".repeat(CELL_MAX_BYTES + 1)}\n${phone(1)},x\n`, { chunkChars: 1 << 20 }, 4096);
    expect(result).toEqual({ ok: false, message: expect.stringContaining("header column 2 is 65,537 bytes long") });
  });

  it("cuts long values echoed into row errors", async () => {
    const { result } = await scan(`phone_number\n${"9".repeat(500)}\n`);
    expect(result.ok && result.summary.errors[0]?.value).toBe(`${"9".repeat(80)}…`);
  });

  it("reads a row many chunks long in time linear in its length", { timeout: 10_000 }, async () => {
    // Re-parsing the unfinished row at every read would take minutes here.
    const csv = `phone_number,notes\n${phone(1)},"${"z".repeat(6 * 1024 * 1024)}"\n${phone(2)},ok\n`;
    const { result, rows } = await scan(csv, { chunkChars: 64 * 1024 }, 4096);
    expect(rows.map((r) => r[1])).toEqual([phone(2)]);
    expect(result.ok && result.summary.errors.map((e) => [e.row, e.column])).toEqual([[2, "notes"]]);
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

/** UTF-16 bytes of ASCII text, little- or big-endian, with or without a byte order mark. */
function utf16(text: string, endian: "le" | "be", bom: boolean): Uint8Array {
  const out: number[] = bom ? (endian === "le" ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
  for (const ch of text) out.push(...(endian === "le" ? [ch.charCodeAt(0), 0] : [0, ch.charCodeAt(0)]));
  return new Uint8Array(out);
}

describe("hostile files", () => {
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

  it(`refuses a header of more than ${MAX_COLUMNS} columns, naming the limit and the count, after dropping empty trailing ones`, async () => {
    const names = (n: number) => ["phone_number", ...Array.from({ length: n - 1 }, (_, i) => `c${i}`)].join(",");
    const over = await scan(`${names(MAX_COLUMNS + 1)}\n${phone(1)}\n`);
    expect(over.result).toEqual({ ok: false, message: expect.stringContaining(`has ${MAX_COLUMNS + 1} columns`) });
    expect(!over.result.ok && over.result.message).toContain(`at most ${MAX_COLUMNS}`);
    const wide = await scan(`phone_number${",a".repeat(15_000)}\n`);
    expect(!wide.result.ok && wide.result.message).toContain("15,001 columns");
    const atLimit = await scan(`${names(MAX_COLUMNS)}${",".repeat(500)}\n${phone(1)}\n`);
    expect(atLimit.result.ok && atLimit.result.summary.columns.length).toBe(MAX_COLUMNS);
    expect(atLimit.rows).toHaveLength(1);
  });

  it("keeps columns named like Object.prototype's properties, __proto__ included", async () => {
    const { result, rows } = await scan(`phone_number,__proto__,constructor,toString,hasOwnProperty\n${phone(1)},a,b,c,d\n`);
    expect(result.ok && result.summary.columns).toEqual(["phone_number", "__proto__", "constructor", "tostring", "hasownproperty"]);
    expect(rows).toEqual([[0, phone(1), [phone(1), "a", "b", "c", "d"]]]);
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
