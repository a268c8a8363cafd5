import { describe, expect, it } from "vitest";
import { normalizeHeader, scanCsv, type CsvScanOptions } from "../../src/domain/csv";

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
      '\uFEFFPhone Number,First Name,Notes\r\n' +
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
