import { decodeChunks } from "../lib/body";
import * as z from "zod";
import type { PreDial } from "../domain/batch-safety";
import { readWorkspace } from "../db/workspace.repo";
import { decryptSecret } from "../lib/crypto";
import { issuesText } from "../lib/issues";
import { signWebhook } from "../lib/signing";
import { clip } from "../lib/text";
import { fetchFailure, fetchNoRedirect, redirectRefusal } from "./http";

// The batch's pre-dial check (preDialUrl): before each dial, the tenant's
// own endpoint is asked whether to call this person now. Its answer
// decides; its silence or failure decides by preDialOnError. Nothing here
// touches the ledger: the consumer reports what was decided.

/** How long the check may take, answer read included. */
export const PRE_DIAL_TIMEOUT_MS = 2_000;
/** The most of an answer read: a decision, a reason and a few variables fit well within it. */
export const PRE_DIAL_MAX_ANSWER_BYTES = 64 * 1024;

/** What the endpoint may answer: bounded, so a reason fits a call's error and the variables a dial. */
export const PreDialAnswerSchema = z.object({
  dial: z.boolean(),
  reason: z.string().max(500).optional(),
  variables: z
    .record(z.string().min(1).max(256), z.string().max(8192))
    .refine((v) => Object.keys(v).length <= 200, "at most 200 variables")
    .optional(),
});

/** What the check asks about: one attempt of one call, with the variables its dial would carry. */
export type PreDialQuestion = { workspaceId: string; callId: string; attempt: number; to: string; variables: Record<string, string> };

/**
 * What the check decided. `dial` carries the variables the dial sends (the
 * row's, with the answer's over them); `skip` the sentence the cancelled
 * call shows; `unasked`: nothing was sent (the workspace's secret could not
 * be read), so the attempt is given back and tried again.
 */
export type PreDialDecision =
  | { kind: "dial"; variables: Record<string, string>; note?: string }
  | { kind: "skip"; error: string }
  | { kind: "unasked"; error: string };

/**
 * Workspace secrets read for checks started in the same turn (a consumer
 * batch asks for its calls together): one D1 read per workspace, not per
 * call, and never a stale one (the entry goes once the read settles).
 */
const reading = new Map<string, Promise<string | null>>();

function workspaceSecret(env: Env, workspaceId: string): Promise<string | null> {
  let pending = reading.get(workspaceId);
  if (!pending) {
    pending = readWorkspace(env.DB, workspaceId, ["webhook_secret_enc"]).then((w) =>
      w?.webhook_secret_enc ? decryptSecret(w.webhook_secret_enc, env.SECRETS_ENCRYPTION_KEY) : null,
    );
    reading.set(workspaceId, pending);
    void pending.finally(() => reading.delete(workspaceId)).catch(() => undefined);
  }
  return pending;
}

/**
 * Asks the batch's preDialUrl about one attempt: a POST of
 * {callId, attempt, to, variables}, signed per Standard Webhooks with the
 * workspace's webhook secret, answered within PRE_DIAL_TIMEOUT_MS. Never
 * throws: a timeout, a failed connection, a non-2xx (a redirect included:
 * it is not followed), a body that is not JSON or not the answer's shape
 * all decide by `preDial.onError`.
 */
export async function askPreDial(env: Env, preDial: PreDial, q: PreDialQuestion): Promise<PreDialDecision> {
  let secret: string | null;
  try {
    secret = await workspaceSecret(env, q.workspaceId);
  } catch (err) {
    return { kind: "unasked", error: `the workspace's webhook secret could not be read (${String(err)})` };
  }
  const answer =
    secret === null
      ? "the workspace has no webhook secret to sign it with"
      : await ask(preDial.url, secret, q).catch((err: unknown) => `could not be sent: ${clip(String(err), 200)}`);
  if (typeof answer !== "string") {
    if (answer.dial) return { kind: "dial", variables: { ...q.variables, ...answer.variables } };
    return { kind: "skip", error: `The pre-dial check said not to call${answer.reason ? `: ${answer.reason}` : "."}` };
  }
  const failed = `The pre-dial check failed (${answer})`;
  if (preDial.onError === "dial") return { kind: "dial", variables: q.variables, note: `${failed}, so the call was dialled (preDialOnError dial)` };
  return { kind: "skip", error: `${failed}, so the call was skipped (preDialOnError skip)` };
}

/** The endpoint's answer, or what went wrong, in words that fit in "The pre-dial check failed (…)". */
async function ask(url: string, secret: string, q: PreDialQuestion): Promise<z.infer<typeof PreDialAnswerSchema> | string> {
  const body = JSON.stringify({ callId: q.callId, attempt: q.attempt, to: q.to, variables: q.variables });
  const headers = await signWebhook(secret, `${q.callId}.${q.attempt}.pre-dial`, body);
  const signal = AbortSignal.timeout(PRE_DIAL_TIMEOUT_MS);
  let text: string;
  try {
    const res = await fetchNoRedirect(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "batch-calls-pre-dial/1" },
      body,
      signal,
    });
    const redirect = redirectRefusal(res, url);
    if (redirect || !res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return `it ${redirect ?? `answered ${res.status}`}`;
    }
    text = await readWithin(res, PRE_DIAL_MAX_ANSWER_BYTES, signal);
  } catch (err) {
    if (err instanceof TooLarge) return `its answer is larger than ${PRE_DIAL_MAX_ANSWER_BYTES / 1024} KiB`;
    const f = fetchFailure(err);
    return f.timedOut ? `timed out after ${PRE_DIAL_TIMEOUT_MS / 1000} s` : `could not connect: ${clip(f.message, 200)}`;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "its answer is not JSON";
  }
  const parsed = PreDialAnswerSchema.safeParse(json);
  if (!parsed.success) return `its answer is not {dial: boolean, reason?, variables?}: ${clip(issuesText(parsed.error.issues), 200)}`;
  return parsed.data;
}

class TooLarge extends Error {}

/** The answer's text, at most `maxBytes` of it, read before `signal` fires (a body that trickles in counts against the same 2 s). */
async function readWithin(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  if (Number(res.headers.get("content-length")) > maxBytes) throw new TooLarge();
  if (!res.body) return "";
  const reader = res.body.getReader();
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  const chunks: Uint8Array[] = [];
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      seen += value.byteLength;
      if (seen > maxBytes) throw new TooLarge();
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
  return decodeChunks(chunks, seen);
}
