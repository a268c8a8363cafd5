import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEV_DRAIN_MAX_BYTES } from "../../src/lib/body";
import { authHeaders, call, callWithEnv, csvForm, json, LATER, newWorkspace, upload, type TestWorkspace } from "../helpers";

const CSV = "\uFEFFphone_number,first_name\r\n+12125550101,Zoë\r\n+12125550102,Bob\r\n";

/** A multipart body written by hand, as curl writes `-F 'file=<people.csv'`: the file part has no filename. */
function multipart(parts: { name: string; filename?: string; body: string | Uint8Array }[], boundary = "----curlBoundary7f3a"): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ""}`;
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
    chunks.push(typeof p.body === "string" ? enc.encode(p.body) : p.body);
    chunks.push(enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function post(ws: TestWorkspace, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return call("/v1/api/batch-calls", { method: "POST", headers: { ...authHeaders(ws), ...headers }, body });
}

function curlLike(ws: TestWorkspace, file: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  const body = multipart([
    { name: "agentId", body: ws.agentId },
    { name: "scheduledAt", body: LATER },
    { name: "file", body: file },
  ]);
  return post(ws, body, { "content-type": "multipart/form-data; boundary=----curlBoundary7f3a", ...headers });
}

/** The stored file's bytes (text() would drop the BOM, hiding whether it was kept). */
async function storedBytes(ws: TestWorkspace, batchId: string): Promise<number[]> {
  const object = await env.CSV_BUCKET.get(`workspaces/${ws.workspaceId}/batches/${batchId}/input.csv`);
  return [...new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0))];
}

async function expectError(res: Response, status: number, code: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  return body as { error: string; code: string; requestId: string };
}

describe("a file part without a filename is the file", () => {
  it("accepts curl -F 'file=<people.csv' and stores its bytes unchanged", async () => {
    const ws = await newWorkspace();
    const res = await curlLike(ws, CSV);
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.totalCalls).toBe(2);
    expect(await storedBytes(ws, body.batchId)).toEqual([...new TextEncoder().encode(CSV)]);
  });

  it("accepts form.append('file', text) from fetch's FormData", async () => {
    const ws = await newWorkspace();
    const form = new FormData();
    form.append("file", CSV);
    form.append("agentId", ws.agentId);
    form.append("scheduledAt", LATER);
    const res = await post(ws, form);
    expect(res.status).toBe(201);
    expect((await json(res)).totalCalls).toBe(2);
  });

  it("hashes it like a file with the same bytes for Idempotency-Key", async () => {
    const ws = await newWorkspace();
    const asFile = await upload(ws, CSV, {}, { "idempotency-key": "same-bytes" });
    expect(asFile.status).toBe(201);
    const asText = await curlLike(ws, CSV, { "idempotency-key": "same-bytes" });
    expect(asText.status).toBe(201);
    const first = await json(asFile);
    expect(await json(asText)).toEqual(first);
    await expectError(await curlLike(ws, `${CSV}+12125550103,Cy\r\n`, { "idempotency-key": "same-bytes" }), 422, "idempotency_mismatch");
  });

  it("refuses text that was not UTF-8, saying how to send it", async () => {
    const ws = await newWorkspace();
    const latin1 = new Uint8Array([...new TextEncoder().encode("phone_number,name\n+12125550101,Zo"), 0xeb, 0x0a]);
    const body = await expectError(await curlLike(ws, latin1), 400, "csv_invalid");
    expect(body.error).toContain("UTF-8");
    expect(body.error).toContain("filename");
  });

  it("keeps the 20 MiB limit for a text part", async () => {
    const ws = await newWorkspace();
    // Inside the body's framing allowance, so only the file's own size can refuse it.
    const big = `phone_number\n${"1".repeat(20 * 1024 * 1024)}`;
    const body = await expectError(await curlLike(ws, big), 413, "payload_too_large");
    expect(body.error).toContain("20 MiB");
  }, 30_000);

  it("still answers 400 missing_file when there is no file field at all", async () => {
    const ws = await newWorkspace();
    await expectError(await post(ws, csvForm(null, { agentId: ws.agentId })), 400, "missing_file");
  });
});

describe("Content-Type set by hand", () => {
  it.each(["multipart/form-data", "multipart/form-data; charset=utf-8", "Multipart/Form-Data; boundary="])(
    "%s without a boundary is a 400 that says how to let the client set it",
    async (type) => {
      const ws = await newWorkspace();
      const res = await post(
        ws,
        multipart([
          { name: "agentId", body: ws.agentId },
          { name: "file", filename: "a.csv", body: CSV },
        ]),
        { "content-type": type },
      );
      const body = await expectError(res, 400, "multipart_boundary_missing");
      expect(body.error).toContain("no boundary");
      expect(body.error).toContain("curl -F");
      expect(body.error).toContain("requests files=");
      expect(body.error).toContain("FormData");
    },
  );

  it("accepts a quoted boundary", async () => {
    const ws = await newWorkspace();
    const res = await curlLike(ws, CSV, { "content-type": 'multipart/form-data; boundary="----curlBoundary7f3a"' });
    expect(res.status).toBe(201);
  });
});

describe("scheduledAt through the route", () => {
  it("refuses 31 April and a start more than a year ahead with 400, creating nothing", async () => {
    const ws = await newWorkspace();
    const april = await expectError(await upload(ws, CSV, { scheduledAt: "2099-04-31T10:00:00Z" }), 400, "invalid_scheduled_at");
    expect(april.error).toContain("does not exist");
    const far = await expectError(await upload(ws, CSV, { scheduledAt: "2999-01-01T00:00:00Z" }), 400, "invalid_scheduled_at");
    expect(far.error).toContain("365 days");
    const batches = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1").bind(ws.workspaceId).all();
    expect(batches.results).toEqual([]);
  });
});

describe("413 for a chunked body in local development", () => {
  const MIB = 1024 * 1024;

  /** A body without Content-Length, as `curl -H 'Transfer-Encoding: chunked'` sends it; counts what was read. */
  function chunked(totalMiB: number) {
    const chunk = new Uint8Array(MIB).fill(0x31);
    const seen = { chunks: 0, ended: false, cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (seen.chunks >= totalMiB) {
          seen.ended = true;
          return ctl.close();
        }
        seen.chunks++;
        ctl.enqueue(chunk);
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { body, seen };
  }

  const devEnv = { ...env, ENVIRONMENT: "development" } as Env;
  const send = (ws: TestWorkspace, body: ReadableStream) =>
    callWithEnv(devEnv, "/v1/api/batch-calls", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "multipart/form-data; boundary=x" },
      body,
      duplex: "half",
    } as RequestInit);

  // Under wrangler dev a body read part-way and then cancelled breaks the proxy's
  // connection and the next request gets 503 (workerd#1741); read to its end, it does not.
  it("reads the rest of the body before answering 413, then serves the next upload", async () => {
    const ws = await newWorkspace();
    const { body, seen } = chunked(24);
    await expectError(await send(ws, body), 413, "payload_too_large");
    expect(seen).toEqual({ chunks: 24, ended: true, cancelled: false });
    const next = await callWithEnv(devEnv, "/v1/api/batch-calls", {
      method: "POST",
      headers: authHeaders(ws),
      body: csvForm(CSV, { agentId: ws.agentId, scheduledAt: LATER }),
    });
    expect(next.status).toBe(201);
  }, 60_000);

  it(`stops reading at ${DEV_DRAIN_MAX_BYTES / MIB} MiB all told`, async () => {
    const ws = await newWorkspace();
    const { body, seen } = chunked(10_000);
    await expectError(await send(ws, body), 413, "payload_too_large");
    expect(seen.chunks).toBeLessThanOrEqual(DEV_DRAIN_MAX_BYTES / MIB + 4);
    expect(seen.ended).toBe(false);
  }, 60_000);
});
