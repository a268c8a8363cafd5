import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CELL_MAX_BYTES, MAX_COLUMNS } from "../../src/domain/csv/limits";
import { ledgerQuery } from "../engine-helpers";
import { authHeaders, call, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

/** Files as spreadsheets and people send them (issue 7), through the real route. */

function phone(i: number): string {
  return `+1212${String(5550000 + i).padStart(7, "0")}`;
}

/** A file of `rows` rows whose notes column is `notesChars` characters long. */
function notesCsv(rows: number, notesChars: number): string {
  const note = "n".repeat(notesChars);
  const out = ["phone_number,first_name,notes"];
  for (let i = 0; i < rows; i++) out.push(`${phone(i)},P${i},${note}`);
  return `${out.join("\n")}\n`;
}

async function expectCsvError(res: Response, text?: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.code }).toEqual({ status: 400, code: "csv_invalid" });
  expect(typeof body.error).toBe("string");
  if (text) expect(body.error).toContain(text);
  return body;
}

async function expectNothingStored(ws: TestWorkspace) {
  const batches = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1").bind(ws.workspaceId).all();
  expect(batches.results).toEqual([]);
  const objects = await env.CSV_BUCKET.list({ prefix: `workspaces/${ws.workspaceId}/` });
  expect(objects.objects).toEqual([]);
}

/** The batch's calls as its object stored them, in file order. */
async function storedCalls(batchId: string) {
  const stub = env.BATCH_SCHEDULER.getByName(batchId);
  await expect.poll(async () => (await stub.state())?.materialised, { timeout: 20_000 }).toBe(true);
  return ledgerQuery<{ seq: number; phone_number: string; metadata: string }>(batchId, "SELECT seq, phone_number, metadata FROM calls ORDER BY seq");
}

describe("rows large enough to matter", () => {
  it("uploads 4,000 rows with a 550-character notes column (~2.3 MB) and materialises every call", { timeout: 60_000 }, async () => {
    const ws = await newWorkspace();
    const csv = notesCsv(4000, 550);
    expect(csv.length).toBeGreaterThan(2_250_000);
    const res = await upload(ws, csv);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ totalCalls: 4000, invalidRows: 0 });
    const calls = await storedCalls(body.batchId);
    expect(calls).toHaveLength(4000);
    expect(calls[3999]!.phone_number).toBe(phone(3999));
    expect(JSON.parse(calls[3999]!.metadata)).toEqual([phone(3999), "P3999", "n".repeat(550)]);
    const status = await json(await call(`/v1/api/batch-calls/${body.batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ total: 4000, waiting: 4000, failed: 0 });
  });

  it("refuses one cell of a few MB with a 400 naming its line and column, the same in a dry run", async () => {
    const ws = await newWorkspace();
    const csv = `phone_number,first_name,notes\n${phone(1)},Ann,short\n${phone(2)},Bob,${"x".repeat(3 * 1024 * 1024)}\n${phone(3)},Cy,short\n`;
    for (const fields of [{}, { dryRun: "true" }] as Record<string, string>[]) {
      const body = await expectCsvError(await upload(ws, csv, fields), "line 3 (notes)");
      expect(body.invalidRows).toBe(1);
      expect(body.details).toEqual([
        { row: 3, column: "notes", value: null, message: expect.stringContaining(`at most ${CELL_MAX_BYTES.toLocaleString("en-US")} bytes`) },
      ]);
      // the error body never echoes the oversized value
      expect(JSON.stringify(body).length).toBeLessThan(2000);
    }
    await expectNothingStored(ws);
  });

  it("leaves an oversized row out with onInvalidRows=skip, and calls the rest", async () => {
    const ws = await newWorkspace();
    const csv = `phone_number,notes\n${phone(1)},ok\n${phone(2)},${"é".repeat(CELL_MAX_BYTES / 2 + 1)}\n${phone(3)},ok\n`;
    const res = await upload(ws, csv, { onInvalidRows: "skip" });
    const body = await json(res);
    expect(res.status).toBe(201);
    expect(body).toMatchObject({ totalCalls: 2, invalidRows: 1, details: [{ row: 3, column: "notes", value: null }] });
    expect((await storedCalls(body.batchId)).map((c) => c.phone_number)).toEqual([phone(1), phone(3)]);
  });
});

describe("spreadsheet dialects", () => {
  const cases: [string, string][] = [
    ["semicolons", "Phone Number;First Name;City\n+12125550101;Ann;Köln\n+12125550102;Bob;Paris\n"],
    ["tabs", "phone_number\tfirst_name\tcity\n+12125550101\tAnn\tKöln\n+12125550102\tBob\tParis\n"],
    ["pipes", "phone_number|first_name|city\n+12125550101|Ann|Köln\n+12125550102|Bob|Paris\n"],
    ["a sep= line (with a BOM and CRLF)", "\uFEFFsep=;\r\nphone_number;first_name;city\r\n+12125550101;Ann;Köln\r\n+12125550102;Bob;Paris\r\n"],
    ["empty trailing header columns", "phone_number,first_name,city,,\n+12125550101,Ann,Köln,,\n+12125550102,Bob,Paris\n"],
  ];
  it.each(cases)("reads a file separated by %s", async (_name, csv) => {
    const ws = await newWorkspace();
    const res = await upload(ws, csv);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.totalCalls).toBe(2);
    const calls = await json(await call(`/v1/api/batch-calls/${body.batchId}/calls`, { headers: authHeaders(ws) }));
    expect(calls.calls.map((c: any) => c.metadata)).toEqual([
      { phone_number: "+12125550101", first_name: "Ann", city: "Köln" },
      { phone_number: "+12125550102", first_name: "Bob", city: "Paris" },
    ]);
  });

  it("reports invalid rows with their real file line after a sep= line", async () => {
    const ws = await newWorkspace();
    const body = await expectCsvError(await upload(ws, "sep=;\nphone_number;email\n+12125550101;a@example.com\n+12125550102;broken@\n"), "line 4 (email)");
    expect(body.details).toEqual([{ row: 4, column: "email", value: "broken@", message: "not a valid email address" }]);
  });

  it("refuses a value under a column the header does not name, naming the line", async () => {
    const ws = await newWorkspace();
    const body = await expectCsvError(await upload(ws, "phone_number,first_name,,\n+12125550101,Ann,,\n+12125550102,Bob,,oops\n"), "line 3");
    expect(body.details).toEqual([{ row: 3, column: null, value: null, message: expect.stringContaining("column 4 has no name in the header") }]);
  });

  it("says which columns it found, and which separator the header seems to use, when phone_number is missing", async () => {
    const ws = await newWorkspace();
    const found = await expectCsvError(await upload(ws, "name,email,plan\nAnn,a@example.com,gold\n"), "no phone_number column");
    expect(found.error).toContain('3 columns: "name", "email", "plan"');
    const misread = await expectCsvError(await upload(ws, "sep=,\nphone_number;first_name\n+12125550101;Ann\n"), "no phone_number column");
    expect(misread.error).toContain("semicolons");
    expect(misread.error).toContain("sep=");
    await expectNothingStored(ws);
  });
});

/** Files built to cost the service more than they cost the sender (issue 14), through the real route. */
describe("hostile files", () => {
  /** UTF-16 bytes of ASCII text, little- or big-endian, with or without a byte order mark. */
  function utf16(text: string, endian: "le" | "be", bom: boolean): Blob {
    const out: number[] = bom ? (endian === "le" ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
    for (const ch of text) out.push(...(endian === "le" ? [ch.charCodeAt(0), 0] : [0, ch.charCodeAt(0)]));
    return new Blob([new Uint8Array(out)], { type: "text/csv" });
  }

  it(`refuses a header of more than ${MAX_COLUMNS} columns, naming the limit and the count, the same in a dry run`, async () => {
    const ws = await newWorkspace();
    const header = ["phone_number", ...Array.from({ length: 400 }, (_, i) => `c${i}`)].join(",");
    const csv = `${header}\n${phone(1)}${",x".repeat(400)}\n`;
    for (const fields of [{}, { dryRun: "true" }, { onInvalidRows: "skip" }] as Record<string, string>[]) {
      const body = await expectCsvError(await upload(ws, csv, fields), "401 columns");
      expect(body.error).toContain(`at most ${MAX_COLUMNS}`);
    }
    await expectNothingStored(ws);
    // Empty trailing header columns do not count.
    const fits = ["phone_number", ...Array.from({ length: MAX_COLUMNS - 1 }, (_, i) => `c${i}`)].join(",") + ",".repeat(300);
    const res = await upload(ws, `${fits}\n${phone(1)}\n`);
    expect(res.status, JSON.stringify(await json(res.clone()))).toBe(201);
  });

  it("gives UTF-16 without a byte order mark the encoding message UTF-16 with one gets", async () => {
    const ws = await newWorkspace();
    const csv = "phone_number,first_name\r\n+12125550101,Ann\r\n";
    const errors = new Set<string>();
    for (const [endian, bom] of [
      ["le", true],
      ["le", false],
      ["be", true],
      ["be", false],
    ] as const) {
      errors.add((await expectCsvError(await upload(ws, utf16(csv, endian, bom)), "UTF-16")).error);
    }
    expect(errors.size).toBe(1);
    await expectNothingStored(ws);
  });

  it("counts a file of junk rows exactly in reject mode", async () => {
    const ws = await newWorkspace();
    const body = await expectCsvError(await upload(ws, `phone_number\n${"1\n".repeat(2000)}`), "2000 row(s) are invalid");
    expect(body.error).not.toContain("least");
    expect(body.invalidRows).toBe(2000);
    expect(body.details).toHaveLength(100);
    expect(body.details[0]).toEqual({ row: 2, column: "phone_number", value: "1", message: expect.stringContaining("not a valid phone number") });
  });

  it("says 'at least' when reject mode stops asking Intl about time zones, and a dry run or skip counts them all", async () => {
    const ws = await newWorkspace();
    const lines = ["phone_number,timezone"];
    for (let i = 0; i < 100; i++) lines.push("1,");
    // An unlisted zone name under a known area: only Intl can judge it (and refuses it).
    for (let i = 0; i < 30; i++) lines.push(`${phone(100 + i)},America/Unseen${i}`);
    lines.push(`${phone(1)},`);
    const csv = `${lines.join("\n")}\n`;

    const rejected = await expectCsvError(await upload(ws, csv), "At least 100 row(s) are invalid");
    expect(rejected.invalidRows).toBe(100);
    expect(rejected.details).toHaveLength(100);

    const dry = await expectCsvError(await upload(ws, csv, { dryRun: "true" }), "130 row(s) are invalid");
    expect(dry.error).not.toContain("least");
    expect(dry.invalidRows).toBe(130);
    await expectNothingStored(ws);

    const res = await upload(ws, csv, { onInvalidRows: "skip" });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ totalCalls: 1, invalidRows: 130 });
  });

  it("reads, stores and echoes phone_number without invisible characters", async () => {
    const ws = await newWorkspace();
    const csv = "phone_number,first_name\n\u200F+1 212 555 0101\u200B,Ann\n\u202E12\u2069,Bob\n\u2066(212) 555-0103\u2069,Cy\n";
    const rejected = await expectCsvError(await upload(ws, csv));
    expect(rejected.details).toEqual([{ row: 3, column: "phone_number", value: "12", message: expect.stringContaining("not a valid phone number") }]);
    const res = await upload(ws, csv, { onInvalidRows: "skip" });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ totalCalls: 2, invalidRows: 1, details: [{ row: 3, value: "12" }] });
    const calls = await storedCalls(body.batchId);
    expect(calls.map((c) => [c.phone_number, JSON.parse(c.metadata)])).toEqual([
      ["+12125550101", ["+1 212 555 0101", "Ann"]],
      ["+12125550103", ["(212) 555-0103", "Cy"]],
    ]);
  });

  it("keeps a column named __proto__ like any other", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, `phone_number,__proto__,plan\n${phone(1)},x,gold\n`);
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    const batch = await env.DB.prepare("SELECT columns FROM batches WHERE id = ?1").bind(body.batchId).first<{ columns: string }>();
    expect(JSON.parse(batch!.columns)).toEqual(["phone_number", "__proto__", "plan"]);
    const calls = await storedCalls(body.batchId);
    expect(JSON.parse(calls[0]!.metadata)).toEqual([phone(1), "x", "gold"]);
  });
});
