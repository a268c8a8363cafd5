import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CELL_MAX_BYTES } from "../../src/domain/csv-limits";
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
