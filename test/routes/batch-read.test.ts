import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyCallEvent } from "../../src/services/call-events";
import { claimAt, recordingQueue, reportAt, tick, uploaded } from "../engine-helpers";
import { authHeaders, call, json, LATER, newWorkspace, upload } from "../helpers";

function people(n: number): string {
  const rows = ["phone_number,first_name,Account ID"];
  for (let i = 0; i < n; i++) rows.push(`+1212555${String(1000 + i)},P${i},"A-${i}, x"`);
  return rows.join("\n");
}

describe("reading batches", () => {
  it("GET batch, /status and the list show the contract's shapes", async () => {
    const ws = await newWorkspace();
    const smart = { enabled: true, maxAttempts: 3, gaps: [{ days: 0, hours: 2 }] };
    const created = await json(
      await upload(ws, people(3), {
        name: "Spring",
        smartCallbackConfig: JSON.stringify(smart),
        callingWindow: JSON.stringify({ start: "09:00", end: "20:00" }),
      }),
    );
    const status = await json(await call(`/v1/api/batch-calls/${created.batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toEqual({
      status: "queued",
      isComplete: false,
      waiting: 3,
      active: 0,
      completed: 0,
      failed: 0,
      total: 3,
      startTime: null,
      lastCompletedTime: null,
      completedTime: null,
      averageCallDuration: 0,
      recent_calls: [],
      cancelled: 0,
      paused: false,
      pausedReason: null,
      maxMinutes: null,
      billedMinutes: 0,
      outcomes: { answered: 0, voicemail: 0, no_answer: 0, busy: 0, failed: 0, canceled: 0, callback_requested: 0 },
      dispositions: {},
    });

    const before = Date.now();
    const batch = await json(await call(`/v1/api/batch-calls/${created.batchId}`, { headers: authHeaders(ws) }));
    expect(batch).toMatchObject({
      id: created.batchId,
      status: "queued",
      isComplete: false,
      totalCalls: 3,
      progress: status,
      name: "Spring",
      fileName: "people.csv",
      agentId: ws.agentId,
      scheduledAt: LATER,
      smartCallbackConfig: { enabled: true, maxAttempts: 3, gaps: [{ days: 0, hours: 2, minutes: 0 }] },
      callingWindow: { start: "09:00", end: "20:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], timezone: "recipient" },
      stopRules: null,
      preDial: null,
      createdAt: expect.stringMatching(/Z$/),
    });
    expect(batch.timestamp).toBeGreaterThanOrEqual(before);

    const second = await json(await upload(ws, people(1)));
    const list = await json(await call("/v1/api/batch-calls?limit=1", { headers: authHeaders(ws) }));
    expect(list.batches.map((b: any) => b.id)).toEqual([second.batchId]);
    expect(list.pagination).toEqual({ page: 1, limit: 1, total: 2, totalPages: 2, hasNext: true, hasPrev: false });
    const page2 = await json(await call("/v1/api/batch-calls?limit=1&page=2", { headers: authHeaders(ws) }));
    expect(page2.batches.map((b: any) => b.id)).toEqual([created.batchId]);
  });

  it("keeps the uploaded file's name without a path, and null for a file part sent without a filename", async () => {
    const ws = await newWorkspace();
    const send = (file: Blob | string, filename?: string) => {
      const form = new FormData();
      if (typeof file === "string") form.append("file", file);
      else form.append("file", file, filename);
      form.append("agentId", ws.agentId);
      form.append("scheduledAt", LATER);
      return call("/v1/api/batch-calls", { method: "POST", headers: authHeaders(ws), body: form });
    };
    const csv = "phone_number\n+12125550101\n";
    const pathed = await json(await send(new Blob([csv], { type: "text/csv" }), "C:\\Users\\ada\\Spring list.csv"));
    const nameless = await json(await send(csv));
    const read = async (id: string) => (await json(await call(`/v1/api/batch-calls/${id}`, { headers: authHeaders(ws) }))).fileName;
    expect(await read(pathed.batchId)).toBe("Spring list.csv");
    expect(await read(nameless.batchId)).toBeNull();
  });

  it("pages calls in file order with the status filter and a summary", async () => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, people(25)));
    const page = await json(await call(`/v1/api/batch-calls/${batchId}/calls?page=2&limit=10`, { headers: authHeaders(ws) }));
    expect(page.calls).toHaveLength(10);
    expect(page.calls[0]).toEqual({
      jobId: expect.stringMatching(/^call_[0-9a-f]+_10$/),
      status: "waiting",
      phone_number: "+12125551010",
      phoneNumbers: ["+12125551010"],
      startTime: null,
      endTime: null,
      duration: null,
      error: null,
      metadata: { phone_number: "+12125551010", first_name: "P10", account_id: "A-10, x" },
      attempts: 0,
      outcome: null,
      nextAttemptAt: null,
      waitReason: null,
      result: null,
    });
    expect(page.pagination).toEqual({ page: 2, limit: 10, total: 25, totalPages: 3, hasNext: true, hasPrev: true });
    expect(page.summary).toEqual({ total: 25, waiting: 25, active: 0, completed: 0, failed: 0 });
    const failed = await json(await call(`/v1/api/batch-calls/${batchId}/calls?status=failed`, { headers: authHeaders(ws) }));
    expect(failed.calls).toEqual([]);
    expect(failed.pagination.total).toBe(0);
    const waiting = await json(await call(`/v1/api/batch-calls/${batchId}/calls?status=waiting&limit=100`, { headers: authHeaders(ws) }));
    expect(waiting.calls).toHaveLength(25);
  });

  it.each(["limit=101", "limit=0", "page=0", "status=done", "page=abc"])("400 for a bad query %s", async (q) => {
    const ws = await newWorkspace();
    const { batchId } = await json(await upload(ws, people(1)));
    const res = await call(`/v1/api/batch-calls/${batchId}/calls?${q}`, { headers: authHeaders(ws) });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "validation_failed", error: expect.any(String) });
  });

  it("404 for an unknown batch", async () => {
    const ws = await newWorkspace();
    const res = await call("/v1/api/batch-calls/batch_nope/status", { headers: authHeaders(ws) });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "batch_not_found" });
  });
});

/** A file with 14 custom columns; `width(i)` is how many characters each of row i's values has. */
function wide(n: number, width: (i: number) => number): string {
  const rows = [["phone_number", ...Array.from({ length: 14 }, (_, j) => `col_${j}`)].join(",")];
  for (let i = 0; i < n; i++) rows.push([`+1212555${1000 + i}`, ...Array.from({ length: 14 }, (_, j) => String(j % 10).repeat(width(i)))].join(","));
  return rows.join("\n");
}

describe("reading batches of wide rows", () => {
  it("/status and GET batch show recent calls with a metadata excerpt; /calls shows every column", async () => {
    const ws = await newWorkspace();
    const { batchId, due } = await uploaded(
      ws,
      wide(2, () => 300),
    );
    await tick(batchId, recordingQueue(), due);
    await claimAt(batchId, 0, 1, due + 10);
    await applyCallEvent(env, { kind: "final", batchId, seq: 0, attempt: 1, outcome: "answered", at: due + 4010, durationSec: 4 });

    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status.recent_calls).toHaveLength(1);
    const recent = status.recent_calls[0];
    expect(recent).toMatchObject({ jobId: `call_${batchId.slice(6)}_0`, status: "completed", phone_number: "+12125551000", metadataTruncated: true });
    expect(Object.keys(recent.metadata)).toEqual(["phone_number", ...Array.from({ length: 9 }, (_, j) => `col_${j}`)]);
    expect(recent.metadata.col_0).toBe(`${"0".repeat(100)}…`);
    const batch = await json(await call(`/v1/api/batch-calls/${batchId}`, { headers: authHeaders(ws) }));
    expect(batch.progress.recent_calls).toEqual(status.recent_calls);

    const page = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(page.calls).toHaveLength(2);
    for (const c of page.calls) {
      expect(c).not.toHaveProperty("metadataTruncated");
      expect(Object.keys(c.metadata)).toHaveLength(15);
      expect(c.metadata.col_13).toBe("3".repeat(300));
    }
  });

  it("shows a column named __proto__ like any other (the page crosses RPC from the batch's object)", async () => {
    const ws = await newWorkspace();
    const { batchId } = await uploaded(ws, "phone_number,__proto__,plan\n+12125551000,p-value,gold\n");
    const page = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, { headers: authHeaders(ws) }));
    expect(page.calls[0].metadata).toEqual(JSON.parse('{"phone_number":"+12125551000","__proto__":"p-value","plan":"gold"}'));
  });

  it("a page of calls stays within its byte budget and keeps every row, so page offsets stay exact", async () => {
    const ws = await newWorkspace();
    // Row 1 is wide (14 × 3,000 characters); rows 0 and 2 are narrow.
    const { batchId } = await uploaded(
      ws,
      wide(3, (i) => (i === 1 ? 3000 : 2)),
    );
    const stub = env.BATCH_SCHEDULER.getByName(batchId);
    const found = (await stub.listCalls(null, 3, 0, 8000))!;
    expect(new TextEncoder().encode(JSON.stringify(found.calls)).byteLength).toBeLessThanOrEqual(8000);
    expect(found.calls.map((c) => c.phone_number)).toEqual(["+12125551000", "+12125551001", "+12125551002"]);
    expect(found.calls.map((c) => c.metadataTruncated ?? false)).toEqual([false, true, false]);
    expect(found.calls[1]!.metadata.col_0).toBe(`${"0".repeat(100)}…`);
    expect(found.calls[2]!.metadata.col_13).toBe("33");
    expect(found.batch).toMatchObject({ total_calls: 3, waiting_count: 3 });
    // Read alone (limit=1, page=2), the wide call has the page to itself and comes whole.
    const alone = (await stub.listCalls(null, 1, 1, 64 * 1024))!;
    expect(alone.calls).toHaveLength(1);
    expect(alone.calls[0]).not.toHaveProperty("metadataTruncated");
    expect(alone.calls[0]!.metadata.col_0).toBe("0".repeat(3000));
    // With a status filter too.
    expect((await stub.listCalls("waiting", 2, 1, 8000))!.calls.map((c) => c.metadataTruncated ?? false)).toEqual([true, false]);
  });
});

describe("service routes", () => {
  it("GET /healthz needs no auth", async () => {
    expect(await json(await call("/healthz"))).toEqual({ ok: true });
  });

  it("GET /v1/openapi.json documents every route, the multipart upload and the error responses", async () => {
    const doc = await json(await call("/v1/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    const upload = doc.paths["/v1/api/batch-calls"].post;
    expect(Object.keys(upload.requestBody.content)).toEqual(["multipart/form-data"]);
    expect(Object.keys(upload.requestBody.content["multipart/form-data"].schema.properties ?? doc.components.schemas.StartBatchForm.properties)).toEqual(
      expect.arrayContaining([
        "file",
        "agentId",
        "scheduledAt",
        "smartCallbackConfig",
        "name",
        "callingWindow",
        "maxConcurrentCalls",
        "onInvalidRows",
        "dryRun",
        "defaultCountry",
      ]),
    );
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "404", "409", "413", "415", "422", "500"]));
    for (const p of [
      "/v1/api/batch-calls/{batchId}",
      "/v1/api/batch-calls/{batchId}/status",
      "/v1/api/batch-calls/{batchId}/calls",
      "/v1/api/agents",
      "/v1/api/agents/{agentId}",
      "/v1/api/dnc",
      "/v1/admin/workspaces",
      "/v1/admin/workspaces/{workspaceId}/api-keys/{keyId}",
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.components.schemas.Error.required).toEqual(["error", "code", "requestId"]);
    expect(Object.keys(doc.webhooks ?? {}).sort()).toEqual([
      "batch.cancelled",
      "batch.completed",
      "batch.paused",
      "batch.started",
      "call.completed",
      "call.failed",
      "call.result",
      "call.retry_scheduled",
      "call.started",
    ]);
    for (const p of ["results.csv", "results.jsonl", "calls/{callId}", "calls/{callId}/transcript"]) {
      expect(doc.paths[`/v1/api/batch-calls/{batchId}/${p}`]?.get, p).toBeDefined();
    }
    expect(doc.paths["/v1/api/batch-calls/{batchId}/results.jsonl"].get.responses["200"].content["application/x-ndjson"]).toBeDefined();
    expect(doc.paths["/v1/webhooks/twilio/status"]).toBeDefined();
  });

  it("GET /docs renders the document", async () => {
    const res = await call("/docs");
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/v1/openapi.json");
  });

  it("unknown routes get the contract's 404 body", async () => {
    const res = await call("/nope");
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ code: "not_found", requestId: expect.any(String) });
  });
});

const ZERO_OUTCOMES = { answered: 0, voicemail: 0, no_answer: 0, busy: 0, failed: 0, canceled: 0, callback_requested: 0 };

/**
 * Three people: Ann answered and booked (with a transcript in R2), Bob
 * answered and was not interested, Cy's first attempt is under way.
 */
async function withResults() {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
  const { batchId, due } = await uploaded(ws, "phone_number,first_name\n+12125551001,Ann\n+12125551002,Bob\n+12125551003,Cy\n");
  const q = recordingQueue();
  await tick(batchId, q, due);
  const id = (seq: number) => `call_${batchId.slice(6)}_${seq}`;
  for (const seq of [0, 1, 2]) await claimAt(batchId, seq, 1, due + 10);
  for (const seq of [0, 1]) {
    await applyCallEvent(env, { kind: "final", batchId, seq, attempt: 1, outcome: "answered", at: due + 4010, durationSec: 4 });
  }
  const key = `transcripts/${batchId}/${id(0)}/1-test.json`;
  await env.CSV_BUCKET.put(key, JSON.stringify({ callId: id(0), attempt: 1, turns: [{ role: "agent", text: "Hi Ann" }] }));
  const booked = { attempt: 1, disposition: "booked", summary: "Booked Tuesday.", data: { slot: "tue", guests: 2 }, transcriptKey: key };
  expect(await reportAt(batchId, 0, booked, due + 5000)).toMatchObject({ kind: "recorded" });
  expect(await reportAt(batchId, 1, { attempt: 1, disposition: "not_interested", sentiment: "negative" }, due + 5000)).toMatchObject({ kind: "recorded" });
  return { ws, batchId, due, q, id, key };
}

describe("an agent's results, read back", () => {
  it("/status counts outcomes and dispositions; /calls shows each call's result and filters by disposition", async () => {
    const { ws, batchId, id } = await withResults();
    const h = { headers: authHeaders(ws) };
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, h));
    expect(status.outcomes).toEqual({ ...ZERO_OUTCOMES, answered: 2 });
    expect(status.dispositions).toEqual({ booked: 1, not_interested: 1 });

    const all = await json(await call(`/v1/api/batch-calls/${batchId}/calls`, h));
    expect(all.calls.map((c: any) => c.result?.disposition ?? null)).toEqual(["booked", "not_interested", null]);
    expect(all.calls[0].result).toEqual({
      attempt: 1,
      disposition: "booked",
      summary: "Booked Tuesday.",
      sentiment: null,
      data: { slot: "tue", guests: 2 },
      transcriptUrl: `/v1/api/batch-calls/${batchId}/calls/${id(0)}/transcript?attempt=1`,
      recordingUrl: null,
      callbackAt: null,
      optOut: false,
      receivedAt: expect.stringMatching(/Z$/),
    });

    const booked = await json(await call(`/v1/api/batch-calls/${batchId}/calls?disposition=booked`, h));
    expect(booked.calls.map((c: any) => c.jobId)).toEqual([id(0)]);
    expect(booked.pagination).toMatchObject({ total: 1, totalPages: 1 });
    const none = await json(await call(`/v1/api/batch-calls/${batchId}/calls?disposition=constructor&status=all`, h));
    expect([none.calls, none.pagination.total]).toEqual([[], 0]);

    const both = await call(`/v1/api/batch-calls/${batchId}/calls?disposition=booked&status=completed`, h);
    expect(both.status).toBe(400);
    expect((await json(both)).error).toMatch(/status or by disposition, one at a time/);
    expect((await call(`/v1/api/batch-calls/${batchId}/calls?disposition=${"x".repeat(65)}`, h)).status).toBe(400);
  });

  it("the D1 summary carries the counters once the batch's object writes it", async () => {
    const { ws, batchId, due, q } = await withResults();
    await tick(batchId, q, due + 60_000);
    const list = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) }));
    expect(list.batches[0].progress).toMatchObject({ outcomes: { ...ZERO_OUTCOMES, answered: 2 }, dispositions: { booked: 1, not_interested: 1 } });
  });

  it("GET …/calls/{callId} has the whole row, each attempt and the result; the transcript is a link that reads it", async () => {
    const { ws, batchId, id } = await withResults();
    const h = { headers: authHeaders(ws) };
    const ann = await json(await call(`/v1/api/batch-calls/${batchId}/calls/${id(0)}`, h));
    expect(ann).toMatchObject({
      jobId: id(0),
      status: "completed",
      outcome: "answered",
      metadata: { phone_number: "+12125551001", first_name: "Ann" },
      attemptHistory: [{ attempt: 1, outcome: "answered", duration: 4, error: null, startTime: expect.any(Number), endTime: expect.any(Number) }],
      result: { disposition: "booked", summary: "Booked Tuesday." },
    });
    const cy = await json(await call(`/v1/api/batch-calls/${batchId}/calls/${id(2)}`, h));
    expect(cy).toMatchObject({ status: "active", result: null, attemptHistory: [{ attempt: 1, endTime: null, outcome: null }] });

    const transcript = await call(ann.result.transcriptUrl, h);
    expect(transcript.status).toBe(200);
    expect(transcript.headers.get("content-type")).toContain("application/json");
    expect(await json(transcript)).toEqual({ callId: id(0), attempt: 1, turns: [{ role: "agent", text: "Hi Ann" }] });

    for (const [path, says] of [
      [`calls/${id(0)}/transcript?attempt=2`, "no transcript for attempt 2"],
      [`calls/${id(1)}/transcript`, "no transcript for attempt 1"],
      [`calls/${id(2)}/transcript`, "has not reported a result"],
    ]) {
      const res = await call(`/v1/api/batch-calls/${batchId}/${path}`, h);
      expect(res.status, path).toBe(404);
      expect((await json(res)).error).toContain(says);
    }
    expect((await call(`/v1/api/batch-calls/${batchId}/calls/${id(0)}/transcript?attempt=0`, h)).status).toBe(400);
  });

  it("404 for a call of another batch, an unknown call, or another workspace's batch", async () => {
    const { ws, batchId, id } = await withResults();
    const other = await json(await upload(ws, people(1)));
    const h = { headers: authHeaders(ws) };
    for (const path of [
      `${other.batchId}/calls/${id(0)}`,
      `${batchId}/calls/${id(7)}`,
      `${batchId}/calls/not-a-call`,
      `${other.batchId}/calls/${id(0)}/transcript`,
    ]) {
      const res = await call(`/v1/api/batch-calls/${path}`, h);
      expect(res.status, path).toBe(404);
      expect(await json(res)).toMatchObject({ code: "not_found", error: expect.stringContaining("does not exist in batch") });
    }
    const stranger = await newWorkspace();
    for (const path of [`calls/${id(0)}`, `calls/${id(0)}/transcript`]) {
      const res = await call(`/v1/api/batch-calls/${batchId}/${path}`, { headers: authHeaders(stranger) });
      expect(res.status, path).toBe(404);
      expect(await json(res)).toMatchObject({ code: "batch_not_found" });
    }
  });
});
