import { describe, expect, it } from "vitest";
import { normalizeHeader } from "../../../src/domain/csv";
import { CELL_MAX_BYTES, MAX_COLUMNS } from "../../../src/domain/csv/limits";
import { phone, scan } from "./helpers";

describe("normalizeHeader", () => {
  it("trims, lower-cases and turns spaces and hyphens into _", () => {
    expect(normalizeHeader(" Phone Number ")).toBe("phone_number");
    expect(normalizeHeader("First-Name")).toBe("first_name");
    expect(normalizeHeader("\uFEFFphone_number")).toBe("phone_number");
    expect(normalizeHeader("Account  ID")).toBe("account_id");
  });
});

describe("the header", () => {
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

  it("holds the header to the same limits", async () => {
    const { result } = await scan(`phone_number,${"h".repeat(CELL_MAX_BYTES + 1)}\n${phone(1)},x\n`, { chunkChars: 1 << 20 }, 4096);
    expect(result).toEqual({ ok: false, message: expect.stringContaining("header column 2 is 65,537 bytes long") });
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
});

describe("empty header columns, as spreadsheets save them", () => {
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
