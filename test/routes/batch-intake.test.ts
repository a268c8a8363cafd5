import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDnc } from "../../src/db/dnc.repo";
import type { BatchScheduler } from "../../src/durable/batch/scheduler";
import { dncListBudget } from "../../src/services/dnc-check";
import { ledgerQuery } from "../engine-helpers";
import { authHeaders, call, callWithEnv, csvForm, failingDb, json, newWorkspace, upload, type TestWorkspace } from "../helpers";

const CSV = "Phone Number,First Name,Last Name,Email,Plan\n+12125550101,Ann,Lee,ann@example.com,gold\n(212) 555-0102,Bob,Ray,,silver\n";

async function batchCount(ws: TestWorkspace): Promise<number> {
  const res = await call("/v1/api/batch-calls", { headers: authHeaders(ws) });
  return (await json(res)).pagination.total;
}

/** Nothing at all for this workspace: no batch (even unpublished), no stored CSV. */
async function expectNothingStored(ws: TestWorkspace) {
  const batches = await env.DB.prepare("SELECT id FROM batches WHERE workspace_id = ?1").bind(ws.workspaceId).all();
  expect(batches.results).toEqual([]);
  const objects = await env.CSV_BUCKET.list({ prefix: `workspaces/${ws.workspaceId}/` });
  expect(objects.objects).toEqual([]);
}

async function expectError(res: Response, status: number, code: string, text?: string) {
  const body = await json(res);
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(typeof body.error).toBe("string");
  expect(body.requestId).toBeTruthy();
  if (text) expect(body.error).toContain(text);
  return body;
}

describe("POST /v1/api/batch-calls", () => {
  it("answers 201 in the contract's exact shape and stores batch, calls and CSV", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, CSV, { scheduledAt: "" });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(["batchId", "duplicatesRemoved", "invalidRows", "message", "scheduledAt", "status", "suppressed", "totalCalls"]);
    expect(body).toEqual({
      batchId: expect.stringMatching(/^batch_[0-9a-f]+$/),
      totalCalls: 2,
      status: "queued",
      message: "Batch calls initiated successfully",
      scheduledAt: null,
      duplicatesRemoved: 0,
      suppressed: 0,
      invalidRows: 0,
    });
    const object = await env.CSV_BUCKET.get(`workspaces/${ws.workspaceId}/batches/${body.batchId}/input.csv`);
    expect(await object?.text()).toBe(CSV);
  });

  it("stores one call per row with every CSV value verbatim", async () => {
    const ws = await newWorkspace();
    const body = await json(await upload(ws, CSV));
    const calls = await json(await call(`/v1/api/batch-calls/${body.batchId}/calls`, { headers: authHeaders(ws) }));
    expect(calls.calls.map((c: any) => [c.phone_number, c.status, c.metadata])).toEqual([
      ["+12125550101", "waiting", { phone_number: "+12125550101", first_name: "Ann", last_name: "Lee", email: "ann@example.com", plan: "gold" }],
      ["+12125550102", "waiting", { phone_number: "(212) 555-0102", first_name: "Bob", last_name: "Ray", email: "", plan: "silver" }],
    ]);
  });

  it("arms the batch's scheduler for scheduledAt, or for now", async () => {
    const ws = await newWorkspace();
    const at = new Date(Date.now() + 3_600_000);
    at.setUTCMilliseconds(0);
    const later = await json(await upload(ws, CSV, { scheduledAt: at.toISOString().replace(".000Z", "Z") }));
    expect(later.scheduledAt).toBe(at.toISOString().replace(".000Z", "Z"));
    const stub = env.BATCH_SCHEDULER.getByName(later.batchId);
    // The object first materialises the calls (an alarm at once), then sleeps until scheduledAt.
    await expect.poll(async () => (await stub.state())?.materialised).toBe(true);
    await expect.poll(() => runInDurableObject(stub, async (_obj: BatchScheduler, state) => state.storage.getAlarm())).toBe(at.getTime());
    expect(await stub.state()).toMatchObject({ batchId: later.batchId, workspaceId: ws.workspaceId, dueAt: at.getTime() });
    expect(await stub.progress(0)).toMatchObject({ status: "queued", total_calls: 2, waiting_count: 2 });

    const before = Date.now();
    const now = await json(await upload(ws, CSV, { scheduledAt: "" }));
    const due = await env.BATCH_SCHEDULER.getByName(now.batchId).state();
    expect(due?.dueAt).toBeGreaterThanOrEqual(before);
    expect(due?.dueAt).toBeLessThanOrEqual(Date.now());
  });

  it("accepts an offset time and reports it in UTC", async () => {
    const ws = await newWorkspace();
    // A month ahead: within the 365-day cap.
    const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const res = await upload(ws, CSV, { scheduledAt: `${day}T10:00:00+02:00` });
    expect((await json(res)).scheduledAt).toBe(`${day}T08:00:00Z`);
  });

  describe("refuses bad input with the contract's error and creates nothing", () => {
    const cases: [string, (ws: TestWorkspace) => Promise<Response>, number, string, string?][] = [
      ["no file", (ws) => upload(ws, null), 400, "missing_file", "file"],
      ["no agentId", (ws) => call("/v1/api/batch-calls", { method: "POST", headers: authHeaders(ws), body: csvForm(CSV) }), 400, "missing_agent_id", "agentId"],
      ["unparseable scheduledAt", (ws) => upload(ws, CSV, { scheduledAt: "tomorrow at noon" }), 400, "invalid_scheduled_at", "ISO 8601"],
      ["scheduledAt without a zone", (ws) => upload(ws, CSV, { scheduledAt: "2099-01-01T10:00:00" }), 400, "invalid_scheduled_at", "zone"],
      ["scheduledAt in the past", (ws) => upload(ws, CSV, { scheduledAt: "2020-01-01T10:00:00Z" }), 400, "invalid_scheduled_at", "past"],
      ["impossible scheduledAt", (ws) => upload(ws, CSV, { scheduledAt: "2099-13-45T10:00:00Z" }), 400, "invalid_scheduled_at"],
      ["smartCallbackConfig not JSON", (ws) => upload(ws, CSV, { smartCallbackConfig: "{enabled:true" }), 400, "invalid_smart_callback_config", "JSON"],
      [
        "smartCallbackConfig maxAttempts 11",
        (ws) => upload(ws, CSV, { smartCallbackConfig: JSON.stringify({ enabled: true, maxAttempts: 11, gaps: [{ hours: 1 }] }) }),
        400,
        "invalid_smart_callback_config",
        "maxAttempts",
      ],
      [
        "smartCallbackConfig without gaps",
        (ws) => upload(ws, CSV, { smartCallbackConfig: JSON.stringify({ enabled: true, maxAttempts: 3 }) }),
        400,
        "invalid_smart_callback_config",
        "gaps",
      ],
      [
        "smartCallbackConfig with a zero gap",
        (ws) => upload(ws, CSV, { smartCallbackConfig: JSON.stringify({ enabled: true, maxAttempts: 2, gaps: [{ days: 0, hours: 0 }] }) }),
        400,
        "invalid_smart_callback_config",
      ],
      ["bad callingWindow", (ws) => upload(ws, CSV, { callingWindow: JSON.stringify({ start: "9am", end: "20:00" }) }), 400, "invalid_calling_window"],
      ["bad onInvalidRows", (ws) => upload(ws, CSV, { onInvalidRows: "ignore" }), 400, "validation_failed", "onInvalidRows"],
      ["bad defaultCountry", (ws) => upload(ws, CSV, { defaultCountry: "XX" }), 400, "validation_failed", "defaultCountry"],
      ["maxConcurrentCalls above the workspace's", (ws) => upload(ws, CSV, { maxConcurrentCalls: "11" }), 400, "validation_failed", "limit of 10"],
      ["maxConcurrentCalls not a number", (ws) => upload(ws, CSV, { maxConcurrentCalls: "lots" }), 400, "validation_failed"],
      ["an empty file", (ws) => upload(ws, ""), 400, "csv_invalid", "empty"],
      ["no phone_number column", (ws) => upload(ws, "name,email\nAnn,a@example.com\n"), 400, "csv_invalid", "phone_number"],
      ["a header but no data rows", (ws) => upload(ws, "phone_number,name\n\n"), 400, "csv_invalid", "no data rows"],
      ["a file that is not UTF-8", (ws) => upload(ws, new Blob([new Uint8Array([0x70, 0x68, 0xff, 0x0a])])), 400, "csv_invalid", "UTF-8"],
      ["an unknown agent", (ws) => upload(ws, CSV, { agentId: "agent_doesnotexist" }), 404, "agent_not_found"],
      [
        "a JSON body",
        (ws) => call("/v1/api/batch-calls", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: "{}" }),
        415,
        "unsupported_media_type",
        "multipart/form-data",
      ],
      [
        "a multipart content type with a broken body",
        (ws) =>
          call("/v1/api/batch-calls", {
            method: "POST",
            headers: { ...authHeaders(ws), "content-type": "multipart/form-data; boundary=xyz" },
            body: "this is not multipart",
          }),
        400,
        "bad_request",
      ],
    ];
    it.each(cases)("%s", async (_name, send, status, code, text) => {
      const ws = await newWorkspace();
      await expectError(await send(ws), status, code, text);
      await expectNothingStored(ws);
    });
  });

  it("answers 404 for another workspace's agent", async () => {
    const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
    await expectError(await upload(a, CSV, { agentId: b.agentId }), 404, "agent_not_found");
    await expectNothingStored(a);
  });

  it("lists invalid rows with line, column, value and message, and the total", async () => {
    const ws = await newWorkspace();
    const rows = ["phone_number,email"];
    for (let i = 0; i < 150; i++) rows.push(`not-a-number-${i},`);
    rows.push("+12125550101,broken@", "+12125550102,ok@example.com");
    const body = await expectError(await upload(ws, rows.join("\n")), 400, "csv_invalid", "line 2");
    expect(body.invalidRows).toBe(151);
    expect(body.details).toHaveLength(100);
    expect(body.details[0]).toEqual({ row: 2, column: "phone_number", value: "not-a-number-0", message: expect.any(String) });
    await expectNothingStored(ws);

    const one = await expectError(await upload(ws, "phone_number,email\n+12125550101,x@y\n"), 400, "csv_invalid");
    expect(one.details).toEqual([{ row: 2, column: "email", value: "x@y", message: "not a valid email address" }]);
  });

  describe("413", () => {
    it("refuses a declared Content-Length over the limit before reading the body", async () => {
      const ws = await newWorkspace();
      let pulled = 0;
      const body = new ReadableStream({
        pull(ctl) {
          if (++pulled > 64) return ctl.close();
          ctl.enqueue(new Uint8Array(1024));
        },
      });
      const res = await call("/v1/api/batch-calls", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "multipart/form-data; boundary=x", "content-length": String(30 * 1024 * 1024) },
        body,
        duplex: "half",
      } as RequestInit);
      await expectError(res, 413, "payload_too_large", "20 MiB");
      expect(pulled).toBeLessThanOrEqual(2);
      await expectNothingStored(ws);
    });

    it("counts the bytes of a body without Content-Length and stops at the limit", async () => {
      const ws = await newWorkspace();
      const chunk = new Uint8Array(1024 * 1024).fill(0x41);
      let sent = 0;
      const body = new ReadableStream({
        pull(ctl) {
          if (sent >= 40) return ctl.close();
          sent++;
          ctl.enqueue(chunk);
        },
      });
      const res = await call("/v1/api/batch-calls", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "multipart/form-data; boundary=x" },
        body,
        duplex: "half",
      } as RequestInit);
      await expectError(res, 413, "payload_too_large");
      expect(sent).toBeLessThan(40);
      await expectNothingStored(ws);
    });

    it("refuses a file over 20 MiB even when the body fits the framing allowance", async () => {
      const ws = await newWorkspace();
      const big = new Blob(["phone_number\n", new Uint8Array(20 * 1024 * 1024).fill(0x31)]);
      await expectError(await upload(ws, big), 413, "payload_too_large", "limit is 20 MiB");
      await expectNothingStored(ws);
    });
  });

  it("skips invalid rows with onInvalidRows=skip and says how many", async () => {
    const ws = await newWorkspace();
    const res = await upload(ws, "phone_number\n+12125550101\nnope\n+12125550102\n", { onInvalidRows: "skip" });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ totalCalls: 2, invalidRows: 1, details: [{ row: 3, column: "phone_number", value: "nope" }] });
  });

  it("refuses a file that leaves nothing to call", async () => {
    const ws = await newWorkspace();
    await expectError(await upload(ws, "phone_number\nnope\n", { onInvalidRows: "skip" }), 400, "csv_invalid", "No rows are left");
    await expectNothingStored(ws);
  });

  it("calls a repeated number once and counts the duplicates", async () => {
    const ws = await newWorkspace();
    const body = await json(await upload(ws, "phone_number\n+12125550101\n212-555-0101\n+1 (212) 555-0101\n+12125550102\n"));
    expect(body).toMatchObject({ totalCalls: 2, duplicatesRemoved: 2 });
  });

  it("suppresses numbers on the workspace's do-not-call list", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace();
    const dnc = await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["(212) 555-0102"] }),
    });
    expect(dnc.status).toBe(201);
    const body = await json(await upload(ws, "phone_number\n+12125550101\n+12125550102\n+12125550103\n"));
    expect(body).toMatchObject({ totalCalls: 2, suppressed: 1 });
    const calls = await json(await call(`/v1/api/batch-calls/${body.batchId}/calls`, { headers: authHeaders(ws) }));
    expect(calls.calls.map((c: any) => c.phone_number)).toEqual(["+12125550101", "+12125550103"]);
    // another workspace's list does not apply
    expect(await json(await upload(other, "phone_number\n+12125550102\n"))).toMatchObject({ totalCalls: 1, suppressed: 0 });
  });

  describe("several numbers per recipient", () => {
    const listed = (ws: TestWorkspace, phoneNumbers: string[]) =>
      call("/v1/api/dnc", { method: "POST", headers: { ...authHeaders(ws), "content-type": "application/json" }, body: JSON.stringify({ phoneNumbers }) });
    // Ann: her first number is listed, her second is not. Bob: every number listed. Cy: one number, listed. Di: none listed.
    const FILE =
      "Phone Number,Phone Number 2,Phone Number 3,name\n" +
      "+12125550101,+13125550101,,Ann\n" +
      "+12125550102,(312) 555-0102,+12125550102,Bob\n" +
      "+12125550103,,,Cy\n" +
      "+12125550104,+12125550103,,Di\n";

    it("leaves a row out only when every one of its numbers is on the do-not-call list, and a dry run counts the same", async () => {
      const ws = await newWorkspace();
      expect((await listed(ws, ["+12125550101", "+12125550102", "+13125550102", "+12125550103"])).status).toBe(201);
      const dry = await json(await upload(ws, FILE, { dryRun: "true" }));
      expect(dry).toMatchObject({ status: "dry_run", totalCalls: 2, suppressed: 2, duplicatesRemoved: 0, invalidRows: 0 });
      const body = await json(await upload(ws, FILE));
      expect(body).toMatchObject({ status: "queued", totalCalls: 2, suppressed: 2, duplicatesRemoved: 0, invalidRows: 0 });
      const page = await json(await call(`/v1/api/batch-calls/${body.batchId}/calls`, { headers: authHeaders(ws) }));
      expect(page.calls.map((c: any) => [c.phone_number, c.metadata.name])).toEqual([
        ["+12125550101", "Ann"],
        ["+12125550104", "Di"],
      ]);
      const ann = await json(await call(`/v1/api/batch-calls/${body.batchId}/calls/${page.calls[0].jobId}`, { headers: authHeaders(ws) }));
      expect(ann).toMatchObject({ phone_number: "+12125550101", phoneNumbers: ["+12125550101", "+13125550101"], waitReason: null, attemptHistory: [] });
      const status = await json(await call(`/v1/api/batch-calls/${body.batchId}/status`, { headers: authHeaders(ws) }));
      expect(status).toMatchObject({ total: 2, waiting: 2 });
    });

    it("suppresses nothing for a row with an unlisted number, over several slices, and refuses a file whose every number is listed", async () => {
      const ws = await newWorkspace();
      await listed(ws, ["+12125550000", "+12125559000"]);
      const rows = ["phone_number,phone_number_2"];
      for (let i = 0; i < 9000; i++)
        rows.push(
          `+1212${String(5550000 + i).padStart(7, "0")},${i === 9000 - 1 ? "+12125559000" : i === 0 ? "" : `+1312${String(5550000 + i).padStart(7, "0")}`}`,
        );
      // Row 0 has one number, listed: left out. Row 9000 has a second number, but on the list too: left out.
      expect(await json(await upload(ws, rows.join("\n"), { dryRun: "true" }))).toMatchObject({ totalCalls: 8999, suppressed: 1 });
      await listed(ws, ["+12125558999"]);
      expect(await json(await upload(ws, rows.join("\n"), { dryRun: "true" }))).toMatchObject({ totalCalls: 8998, suppressed: 2 });
      await listed(ws, ["+12125550105", "+13125550105"]);
      const none = await upload(ws, "phone_number,phone_number_2\n+12125550105,+13125550105\n");
      await expectError(none, 400, "csv_invalid", "No rows are left to call (0 invalid, 0 duplicate, the rest on the do-not-call list)");
    });

    it("refuses an invalid phone_number_3 naming its line and column, and skips it when asked", async () => {
      const ws = await newWorkspace();
      const csv = "phone_number,phone_number_2,phone_number_3\n+12125550101,,+13125550101\n+12125550102,,12345\n";
      const body = await expectError(await upload(ws, csv), 400, "csv_invalid", "The first is on line 3 (phone_number_3): not a valid phone number");
      expect(body.details).toEqual([
        { row: 3, column: "phone_number_3", value: "12345", message: "not a valid phone number (numbers without + are read as US)" },
      ]);
      expect(await json(await upload(ws, csv, { onInvalidRows: "skip" }))).toMatchObject({ totalCalls: 1, invalidRows: 1 });
    });
  });

  it("dryRun validates and reports without creating anything", async () => {
    const ws = await newWorkspace();
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550103"] }),
    });
    const res = await upload(ws, "phone_number\n+12125550101\n+12125550101\n+12125550103\nbad\n", { dryRun: "true", onInvalidRows: "skip" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ batchId: null, status: "dry_run", totalCalls: 1, duplicatesRemoved: 1, suppressed: 1, invalidRows: 1 });
    await expectNothingStored(ws);
    const rejected = await upload(ws, "phone_number\nbad\n", { dryRun: "true" });
    await expectError(rejected, 400, "csv_invalid");
  });

  describe("Idempotency-Key", () => {
    it("returns the first response for the same key and payload, and creates one batch", async () => {
      const ws = await newWorkspace();
      const first = await upload(ws, CSV, { name: "March" }, { "idempotency-key": "k-1" });
      const again = await upload(ws, CSV, { name: "March" }, { "idempotency-key": "k-1" });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(await json(again)).toEqual(await json(first));
      expect(await batchCount(ws)).toBe(1);
    });

    it("answers 422 when the key comes back with another file or other fields", async () => {
      const ws = await newWorkspace();
      expect((await upload(ws, CSV, {}, { "idempotency-key": "k-2" })).status).toBe(201);
      await expectError(await upload(ws, `${CSV}+12125550109,Cy,Ng,,gold\n`, {}, { "idempotency-key": "k-2" }), 422, "idempotency_mismatch");
      await expectError(await upload(ws, CSV, { name: "other" }, { "idempotency-key": "k-2" }), 422, "idempotency_mismatch");
      expect(await batchCount(ws)).toBe(1);
    });

    it("answers 409 while the first request with the key is still running", async () => {
      const ws = await newWorkspace();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const slowBucket = new Proxy(env.CSV_BUCKET, {
        get(target, prop) {
          if (prop === "put") {
            return async (...args: Parameters<R2Bucket["put"]>) => {
              entered();
              await gate;
              return target.put(...args);
            };
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const slowEnv = { ...env, CSV_BUCKET: slowBucket };
      const init = () => ({ method: "POST", headers: { ...authHeaders(ws), "idempotency-key": "k-3" }, body: csvForm(CSV, { agentId: ws.agentId }) });
      const first = callWithEnv(slowEnv, "/v1/api/batch-calls", init());
      await inside;
      const busy = await call("/v1/api/batch-calls", init());
      expect(busy.headers.has("idempotent-replayed")).toBe(false);
      await expectError(busy, 409, "idempotency_conflict");
      release();
      const done = await first;
      expect(done.status).toBe(201);
      expect(done.headers.has("idempotent-replayed")).toBe(false);
      const replay = await call("/v1/api/batch-calls", init());
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect((await json(replay)).batchId).toBe((await json(done)).batchId);
    });

    it("frees the key when the request fails, and scopes keys to the workspace", async () => {
      const [a, b] = await Promise.all([newWorkspace(), newWorkspace()]);
      await expectError(await upload(a, "phone_number\nbad\n", {}, { "idempotency-key": "k-4" }), 400, "csv_invalid");
      expect((await upload(a, CSV, {}, { "idempotency-key": "k-4" })).status).toBe(201);
      const inB = await upload(b, CSV, {}, { "idempotency-key": "k-4" });
      expect(inB.status).toBe(201);
      expect(await batchCount(b)).toBe(1);
    });
  });

  describe("all or nothing", () => {
    const send = (ws: TestWorkspace, e: Env) =>
      callWithEnv(e, "/v1/api/batch-calls", { method: "POST", headers: authHeaders(ws), body: csvForm(bigCsv(9000), { agentId: ws.agentId }) });

    it("leaves nothing when a slice's do-not-call check fails part-way", async () => {
      const ws = await newWorkspace();
      await call("/v1/api/dnc", {
        method: "POST",
        headers: { ...authHeaders(ws), "content-type": "application/json" },
        body: JSON.stringify({ phoneNumbers: ["+12125550000"] }),
      });
      // A list longer than this file may read whole (dncListBudget): the check looks numbers up a slice at a time.
      const longer = Array.from({ length: dncListBudget(bigCsv(9000).length) + 1 }, (_, i) => `+1312${2000000 + i}`);
      await addDnc(env.DB, ws.workspaceId, longer, new Date().toISOString());
      let checks = 0;
      const db = failingDb(env.DB, (sql) => sql.includes("FROM dnc WHERE workspace_id = ?1 AND phone_number IN") && ++checks === 2);
      const body = await expectError(await send(ws, { ...env, DB: db }), 500, "batch_start_failed", "nothing was created");
      expect(JSON.stringify(body)).not.toMatch(/injected|SELECT|stack/i);
      expect(checks).toBe(2);
      await expectNothingStored(ws);
    });

    it("leaves nothing when the scheduler cannot be armed after the CSV was stored", async () => {
      const ws = await newWorkspace();
      const scheduler = {
        getByName: () => ({ arm: () => Promise.reject(new Error("injected DO failure")), discard: () => Promise.resolve() }),
      } as unknown as Env["BATCH_SCHEDULER"];
      await expectError(await send(ws, { ...env, BATCH_SCHEDULER: scheduler }), 500, "batch_start_failed");
      await expectNothingStored(ws);
    });

    it("leaves nothing when publishing the batch fails at the last step", async () => {
      const ws = await newWorkspace();
      let armedId: string | undefined;
      const db = failingDb(env.DB, (sql) => sql.includes("SET status = 'queued'"));
      const scheduler = {
        getByName: (id: string) => {
          armedId = id;
          return env.BATCH_SCHEDULER.getByName(id);
        },
      } as unknown as Env["BATCH_SCHEDULER"];
      await expectError(await send(ws, { ...env, DB: db, BATCH_SCHEDULER: scheduler }), 500, "batch_start_failed");
      await expectNothingStored(ws);
      expect(await env.BATCH_SCHEDULER.getByName(armedId!).state()).toBeNull();
    });
  });
});

function bigCsv(rows: number): string {
  const out = ["phone_number,first_name"];
  for (let i = 0; i < rows; i++) out.push(`+1212${String(5550000 + i).padStart(7, "0")},P${i}`);
  return out.join("\n");
}

describe("large uploads", () => {
  it("counts every row when several slices are written at once", async () => {
    const ws = await newWorkspace();
    const rows = 12_345;
    const res = await upload(ws, bigCsv(rows));
    expect(await json(res)).toMatchObject({ totalCalls: rows, duplicatesRemoved: 0, suppressed: 0, invalidRows: 0 });
    const { batchId } = await json(await call("/v1/api/batch-calls", { headers: authHeaders(ws) })).then((l) => ({ batchId: l.batches[0].id }));
    const status = await json(await call(`/v1/api/batch-calls/${batchId}/status`, { headers: authHeaders(ws) }));
    expect(status).toMatchObject({ total: rows, waiting: rows });
    const [stored] = await ledgerQuery<{ n: number }>(batchId, "SELECT count(*) AS n FROM calls");
    expect(stored?.n).toBe(rows);
  });

  it("counts every suppressed row in a dry run over several slices", async () => {
    const ws = await newWorkspace();
    await call("/v1/api/dnc", {
      method: "POST",
      headers: { ...authHeaders(ws), "content-type": "application/json" },
      body: JSON.stringify({ phoneNumbers: ["+12125550000", "+12125559000"] }),
    });
    const res = await upload(ws, bigCsv(12_345), { dryRun: "true" });
    expect(await json(res)).toMatchObject({ totalCalls: 12_343, suppressed: 2 });
  });
});
