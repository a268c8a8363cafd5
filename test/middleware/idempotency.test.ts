import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_LEASE_MS, type IdempotencyHold } from "../../src/db/idempotency.repo";
import { ApiError } from "../../src/errors";
import { idempotencyKey, withIdempotency } from "../../src/middleware/idempotency";

/** A workspace of its own per test: the wrapper needs no workspace row, only a scope for its keys. */
const scope = (key: string | undefined, hash = "hash-a") => ({ workspaceId: `ws_${crypto.randomUUID()}`, key, payloadHash: async () => hash });

async function keyRow(workspaceId: string, key: string) {
  return env.DB.prepare("SELECT state, response_status, response_body FROM idempotency_keys WHERE workspace_id = ?1 AND key = ?2")
    .bind(workspaceId, key)
    .first<{ state: string; response_status: number | null; response_body: string | null }>();
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("idempotencyKey", () => {
  const req = (value?: string) => new Request("https://x.test/", { headers: value === undefined ? {} : { "idempotency-key": value } });

  it("is undefined without the header, and the trimmed value with it", () => {
    expect(idempotencyKey(req())).toBeUndefined();
    expect(idempotencyKey(req("  k-1  "))).toBe("k-1");
    expect(idempotencyKey(req("k".repeat(255)))).toBe("k".repeat(255));
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["over 255 characters", "k".repeat(256)],
  ])("refuses a key that is %s with 400 validation_failed", (_what, value) => {
    let thrown: unknown;
    try {
      idempotencyKey(req(value));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ code: "validation_failed", status: 400, message: "Idempotency-Key must be 1 to 255 characters." });
  });
});

describe("withIdempotency", () => {
  it("without a key runs once with no hold, never hashes the payload, and stores nothing", async () => {
    const s = scope(undefined);
    let hashed = 0;
    const holds: (IdempotencyHold | undefined)[] = [];
    const answer = await withIdempotency(
      env.DB,
      {
        ...s,
        payloadHash: async () => {
          hashed++;
          return "h";
        },
      },
      async (hold) => {
        holds.push(hold);
        return { status: 201, body: { n: 1 } };
      },
    );
    expect(answer).toEqual({ status: 201, body: { n: 1 }, replayed: false });
    expect(holds).toEqual([undefined]);
    expect(hashed).toBe(0);
    const { results } = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE workspace_id = ?1").bind(s.workspaceId).all();
    expect(results).toEqual([]);
  });

  it("runs once per key and payload: the first answer is recorded and replayed, status and body", async () => {
    const s = scope("k-1");
    let runs = 0;
    const run = async (hold: IdempotencyHold | undefined) => {
      runs++;
      expect(hold).toMatchObject({ workspaceId: s.workspaceId, key: "k-1" });
      return { status: 200 as const, body: { batchId: null, run: runs } };
    };
    const first = await withIdempotency(env.DB, s, run);
    expect(first).toEqual({ status: 200, body: { batchId: null, run: 1 }, replayed: false });
    expect(await keyRow(s.workspaceId, "k-1")).toEqual({ state: "done", response_status: 200, response_body: JSON.stringify(first.body) });
    const again = await withIdempotency(env.DB, s, run);
    // The replay says so; the first answer did not.
    expect(again).toEqual({ ...first, replayed: true });
    expect(runs).toBe(1);
  });

  it("answers 422 idempotency_mismatch for the key with another payload, without running", async () => {
    const s = scope("k-2", "hash-a");
    await withIdempotency(env.DB, s, async () => ({ status: 201, body: {} }));
    let ran = false;
    const err = await apiError(
      withIdempotency(env.DB, { ...s, payloadHash: async () => "hash-b" }, async () => {
        ran = true;
        return { status: 201, body: {} };
      }),
    );
    expect(err).toMatchObject({ code: "idempotency_mismatch", status: 422 });
    expect(err.message).toBe("This Idempotency-Key was already used with a different file or fields; use a new key.");
    expect(ran).toBe(false);
  });

  it("answers 409 idempotency_conflict while the first run holds the key, saying when a dead one frees it", async () => {
    const s = scope("k-3");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = withIdempotency(env.DB, s, async () => {
      entered();
      await gate;
      return { status: 201, body: { first: true } };
    });
    await inside;
    const err = await apiError(withIdempotency(env.DB, s, async () => ({ status: 201, body: { first: false } })));
    expect(err).toMatchObject({ code: "idempotency_conflict", status: 409 });
    expect(err.message).toContain(`within ${IDEMPOTENCY_LEASE_MS / 60_000} minutes`);
    release();
    expect(await first).toEqual({ status: 201, body: { first: true }, replayed: false });
  });

  it("gives the key back when the run throws, rethrowing its error, so a retry runs", async () => {
    const s = scope("k-4");
    const boom = new ApiError("csv_invalid", "no rows");
    await expect(withIdempotency(env.DB, s, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await keyRow(s.workspaceId, "k-4")).toBeNull();
    const retry = await withIdempotency(env.DB, s, async () => ({ status: 201, body: { ok: true } }));
    expect(retry).toEqual({ status: 201, body: { ok: true }, replayed: false });
  });

  it("leaves the recording to a run that says it already recorded its answer (in its own transaction)", async () => {
    const s = scope("k-5");
    const answer = await withIdempotency(env.DB, s, async (hold) => {
      // What intake's publish does: the key completed in the same D1 batch as the operation's last write.
      await env.DB.prepare("UPDATE idempotency_keys SET state = 'done', response_status = 201, response_body = ?3 WHERE workspace_id = ?1 AND key = ?2")
        .bind(hold!.workspaceId, hold!.key, JSON.stringify({ from: "publish" }))
        .run();
      return { status: 201, body: { from: "run" }, recorded: true };
    });
    expect(answer).toEqual({ status: 201, body: { from: "run" }, replayed: false });
    // Not overwritten by the wrapper: the replay is what the run recorded.
    expect(await keyRow(s.workspaceId, "k-5")).toEqual({ state: "done", response_status: 201, response_body: JSON.stringify({ from: "publish" }) });
    expect(await withIdempotency(env.DB, s, async () => ({ status: 201, body: {} }))).toEqual({
      status: 201,
      body: { from: "publish" },
      replayed: true,
    });
  });

  it("records nothing and keeps the key for the retry that took it over from a run that outlived its lease", async () => {
    const s = scope("k-6");
    const err = await apiError(
      withIdempotency(env.DB, s, async () => {
        // A retry takes the key over meanwhile (its claim is a later one).
        await env.DB.prepare("UPDATE idempotency_keys SET created_at = created_at + 1 WHERE workspace_id = ?1 AND key = ?2").bind(s.workspaceId, s.key).run();
        throw new ApiError("idempotency_conflict", "taken over");
      }),
    );
    expect(err.code).toBe("idempotency_conflict");
    expect(await keyRow(s.workspaceId, "k-6")).toEqual({ state: "running", response_status: null, response_body: null });
  });
});
