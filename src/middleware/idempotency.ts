import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_LEASE_MS, releaseIdempotencyKey, type IdempotencyHold } from "../db/idempotency.repo";
import { ApiError } from "../errors";

/**
 * What a request run under an Idempotency-Key answers. `recorded`: the
 * operation already stored this answer under the key, in the same D1
 * transaction as its last write (intake's publish does), so no crash can
 * come between the two; otherwise withIdempotency records it.
 */
export type KeyedAnswer<S extends number, B> = { status: S; body: B; recorded?: boolean };

/** The request's Idempotency-Key (trimmed), undefined without one; a 400 when it is empty or over 255 characters. */
export function idempotencyKey(req: Request): string | undefined {
  const key = req.headers.get("idempotency-key")?.trim();
  if (key !== undefined && (key.length === 0 || key.length > 255)) {
    throw new ApiError("validation_failed", "Idempotency-Key must be 1 to 255 characters.");
  }
  return key;
}

/** OpenAPI doc of the header a route sets on a replayed answer (and only then). */
export const replayedHeader = {
  "Idempotent-Replayed": {
    description: "`true` when this is the first request's answer replayed for the same Idempotency-Key and payload; absent otherwise.",
    schema: { type: "string" as const, enum: ["true"] },
  },
};

/** This request's own answer, as withIdempotency returns it. */
function fresh<S extends number, B>(answer: KeyedAnswer<S, B>): { status: S; body: B; replayed: false } {
  return { status: answer.status, body: answer.body, replayed: false };
}

/**
 * Runs `run` at most once per key and payload, within a workspace. Without a
 * key it just runs. With one, the key is claimed first (its hash of the
 * payload, computed only then, binds the key to this payload): a key seen
 * with another payload is 422, one whose first request is still running is
 * 409, a finished one replays its recorded answer. A run that throws gives
 * the key back so the client can re-send with it; one that answers records the
 * answer under the key, unless it already has (`recorded`). `replayed` says
 * the answer is the recorded one, not this request's: the route tells the
 * client so (Idempotent-Replayed: true, as Stripe does).
 */
export async function withIdempotency<S extends number, B>(
  db: D1Database,
  scope: { workspaceId: string; key: string | undefined; payloadHash: () => Promise<string> },
  run: (hold: IdempotencyHold | undefined) => Promise<KeyedAnswer<S, B>>,
): Promise<{ status: S; body: B; replayed: boolean }> {
  if (!scope.key) return fresh(await run(undefined));
  const claim = await claimIdempotencyKey(db, scope.workspaceId, scope.key, await scope.payloadHash(), Date.now());
  if (claim.kind === "mismatch") {
    throw new ApiError("idempotency_mismatch", "This Idempotency-Key was already used with a different file or fields; use a new key.");
  }
  if (claim.kind === "in_progress") {
    throw new ApiError(
      "idempotency_conflict",
      `A request with this Idempotency-Key is still running; retry when it has finished (a request that died frees its key within ${IDEMPOTENCY_LEASE_MS / 60_000} minutes).`,
    );
  }
  if (claim.kind === "replay") return { status: claim.status as S, body: JSON.parse(claim.body) as B, replayed: true };

  const { hold } = claim;
  try {
    const answer = await run(hold);
    if (!answer.recorded) await completeIdempotencyKey(db, hold, answer.status, JSON.stringify(answer.body));
    return fresh(answer);
  } catch (err) {
    // Only while this request still holds the key: a re-sent request that took it over keeps it.
    await releaseIdempotencyKey(db, hold);
    throw err;
  }
}
