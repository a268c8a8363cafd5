import { describe, expect, it } from "vitest";
import { scan } from "./helpers";

describe("line endings", () => {
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

  it("treats a file that is only a sep= line as empty", async () => {
    for (const csv of ["sep=;", "sep=;\r\n", "sep=;\n\n"]) {
      const { result } = await scan(csv);
      expect(result).toEqual({ ok: false, message: expect.stringContaining("the file is empty") });
    }
  });
});
