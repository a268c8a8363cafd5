import { describe, expect, it } from "vitest";
import { ApiError, errorBody, MAX_ECHO_CHARS, MAX_ERROR_BODY_BYTES } from "../src/errors";
import { clip } from "../src/lib/text";
import { authHeaders, call, newWorkspace, upload } from "./helpers";

const SMALL = 8 * 1024;

/** The body's size on the wire, and the body. */
async function sized(res: Response): Promise<{ status: number; bytes: number; body: any }> {
  const buf = await res.arrayBuffer();
  return { status: res.status, bytes: buf.byteLength, body: JSON.parse(new TextDecoder().decode(buf)) };
}

describe("errorBody keeps every error small", () => {
  it("clips a long value inside the sentence and keeps the words around it", () => {
    const id = `agent_${"x".repeat(1_000_000)}`;
    const body = errorBody(new ApiError("agent_not_found", `Agent ${id} does not exist in this workspace.`), "req_1");
    expect(body.error).toBe(`Agent ${id.slice(0, MAX_ECHO_CHARS)}… does not exist in this workspace.`);
  });

  it("caps a long sentence made of short words, keeping its start and end", () => {
    const body = errorBody(new ApiError("validation_failed", `Start. ${"word ".repeat(200_000)}Fix the end.`), "req_1");
    expect(body.error.length).toBeLessThanOrEqual(1000);
    expect(body.error.startsWith("Start.")).toBe(true);
    expect(body.error.endsWith("Fix the end.")).toBe(true);
  });

  it("never splits a surrogate pair", () => {
    expect(clip(`${"a".repeat(99)}😀😀`, MAX_ECHO_CHARS)).toBe(`${"a".repeat(99)}…`);
    expect(clip("short", MAX_ECHO_CHARS)).toBe("short");
  });

  it("clips strings and keys in details, keeps at most 100 entries, and fits the byte cap", () => {
    const column = "c".repeat(5000);
    const value = "v".repeat(100_000);
    const details = Array.from({ length: 5000 }, (_, i) => ({ row: i + 2, column, value, message: "not a valid phone number" }));
    const body = errorBody(new ApiError("csv_invalid", "5000 row(s) are invalid.", details, { invalidRows: 5000 }), "req_1");
    const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
    expect(bytes).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
    expect(body.invalidRows).toBe(5000);
    const kept = body.details as { row: number; value: string; message: string }[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept[0]).toMatchObject({ row: 2, message: "not a valid phone number" });
    expect(kept[0]!.value.length).toBeLessThanOrEqual(MAX_ECHO_CHARS + 1);

    const nested = errorBody(new ApiError("validation_failed", "Bad.", { ["k".repeat(10_000)]: { deep: { deeper: { deepest: { x: "y" } } } } }), "r");
    expect(JSON.stringify(nested).length).toBeLessThan(1000);
  });

  it("keeps 100 ordinary CSV row errors whole", () => {
    const details = Array.from({ length: 100 }, (_, i) => ({ row: i + 2, column: "phone_number", value: "+1 212 555", message: "not a valid phone number" }));
    const body = errorBody(new ApiError("csv_invalid", "100 row(s) are invalid.", details), "req_1");
    expect(body.details).toEqual(details);
  });
});

describe("error bodies through the routes", () => {
  it("a 1 MB agentId: 404 under 8 KB, still naming the agent's start and the fix", async () => {
    const ws = await newWorkspace();
    const agentId = `agent_${"z".repeat(1024 * 1024)}`;
    const { status, bytes, body } = await sized(await upload(ws, "phone_number\n+12125550101\n", { agentId }));
    expect(status).toBe(404);
    expect(bytes).toBeLessThan(SMALL);
    expect(body.code).toBe("agent_not_found");
    expect(body.error).toContain("agent_zzzz");
    expect(body.error).toContain("does not exist in this workspace");
  });

  it("a 100 KB phone number cell in a reject-mode CSV: 400 under 8 KB, naming the column", async () => {
    const ws = await newWorkspace();
    const { status, bytes, body } = await sized(await upload(ws, `phone_number,name\n+12125550101,Ann\n${"9".repeat(100 * 1024)},Bob\n`));
    expect(status).toBe(400);
    expect(bytes).toBeLessThan(SMALL);
    expect(body.code).toBe("csv_invalid");
    expect(body.error).toContain("phone_number");
    for (const d of body.details ?? []) expect(JSON.stringify(d).length).toBeLessThan(400);
  });

  it("150 invalid rows with 2 KB values: at most 100 entries, within the byte cap, with the exact total", async () => {
    const ws = await newWorkspace();
    const rows = Array.from({ length: 150 }, (_, i) => `not-a-number-${i}-${"x".repeat(2048)}`).join("\n");
    const { status, bytes, body } = await sized(await upload(ws, `phone_number\n${rows}\n`));
    expect(status).toBe(400);
    expect(bytes).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
    expect(body.invalidRows).toBe(150);
    expect(body.details.length).toBeGreaterThan(0);
    expect(body.details.length).toBeLessThanOrEqual(100);
    expect(body.details[0]).toMatchObject({ row: 2, column: "phone_number", value: expect.stringMatching(/^not-a-number-0-x+…$/) });
    expect(body.error).toContain("onInvalidRows=skip");
  });

  it("a huge header name: 400 under 8 KB", async () => {
    const ws = await newWorkspace();
    const name = "h".repeat(60 * 1024);
    const { status, bytes, body } = await sized(await upload(ws, `${name},${name}\n+12125550101,x\n`));
    expect(status).toBe(400);
    expect(bytes).toBeLessThan(SMALL);
    expect(body.code).toBe("csv_invalid");
    expect(body.error).toContain("hhhh");
  });

  it("a 100 KB number sent to the do-not-call list: 400 under 8 KB, the value clipped in details", async () => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["8".repeat(100 * 1024), "nope"] }),
    });
    const { status, bytes, body } = await sized(res);
    expect(status).toBe(400);
    expect(bytes).toBeLessThan(SMALL);
    expect(body.details).toEqual([
      { index: 0, value: `${"8".repeat(MAX_ECHO_CHARS)}…` },
      { index: 1, value: "nope" },
    ]);
  });

  it("a 50 KB batch id in the path: 404 under 8 KB", async () => {
    const ws = await newWorkspace();
    const { status, bytes, body } = await sized(await call(`/v1/api/batch-calls/batch_${"b".repeat(50 * 1024)}`, { headers: authHeaders(ws) }));
    expect(status).toBe(404);
    expect(bytes).toBeLessThan(SMALL);
    expect(body.error).toContain("batch_bbbb");
  });
});
