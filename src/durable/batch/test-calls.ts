import { loadPool } from "../../db/agent-numbers.repo";
import { TEST_CALL_STATES } from "../../domain/test-call";
import type { BatchStatus } from "../../domain/vocabulary";
import { engineConfig } from "../../engine-config";
import { log } from "../../lib/log";
import { count } from "../../lib/metrics";
import type { TestCallView } from "../../schemas/test-call";
import { testCallView } from "../../views/test-call";
import { variablesOf } from "./claims";
import { batchFields, type BatchContext } from "./context";
import type { DialAgent, SchedulerState } from "./contract";
import { emit } from "./effects";
import { end, ledgerOf, type Webhook } from "./test-call-reports";

// A batch's test calls (src/domain/test-call.ts): created here while the
// batch is a draft or paused, then dialled by the Worker at once
// (telephony/test-call.ts: not through the call queue, the limiter or the
// contact policy). What settles one — the provider's answer, status
// reports, the agent's result — is test-call-reports.ts's. Nothing here
// writes the batch's calls or its row: its counters, summary, progress
// feed, stop window and exports never see a test call.

export type TestCallInput = { to: string; row: number };
export type { TestCallView };

/** What the Worker dials a new test call with. */
export type TestDial = { seq: number; agent: DialAgent; to: string; from: string | null; variables: Record<string, string> };

/**
 * A new test call (active; the Worker dials it now), or why there is none:
 * the batch's status (`gone`: no batch here), a row past its calls, or its
 * MAX_TEST_CALLS used up.
 */
export type TestCallCreated =
  | { ok: true; testCall: TestCallView; dial: TestDial }
  | { ok: false; kind: "status"; status: BatchStatus | "gone" }
  | { ok: false; kind: "row"; calls: number }
  | { ok: false; kind: "limit" };

const allowed = (status: BatchStatus) => (TEST_CALL_STATES as readonly string[]).includes(status);

/** The caller ID a test call shows: the first enabled number of the agent's pool (its batch calls' numbers), else its fromNumber. */
async function callerIdOf(c: BatchContext, state: SchedulerState, agent: DialAgent): Promise<string | null> {
  const pool = await loadPool(c.env.DB, state.workspaceId, agent.id);
  return pool?.numbers.find((n) => n.enabled)?.e164 ?? agent.from_number;
}

/** POST …/test-call: checks the batch and the row, and records the call in one step (so two at once cannot both be the 20th). */
export async function create(c: BatchContext, state: SchedulerState, input: TestCallInput): Promise<TestCallCreated> {
  const before = c.ledger.batch();
  if (!before || !allowed(before.status)) return { ok: false, kind: "status", status: before?.status ?? "gone" };
  const config = await c.config();
  const from = await callerIdOf(c, state, config.agent);
  const tests = ledgerOf(c);
  const created = c.storage.transactionSync((): TestCallCreated => {
    const status = c.ledger.batch()!.status;
    if (!allowed(status)) return { ok: false, kind: "status", status };
    const { call, calls } = tests.nthCall(input.row);
    if (!call) return { ok: false, kind: "row", calls };
    const variables = variablesOf(config.columns, call);
    const row = tests.add({ row: input.row, to: input.to, from, metadata: call.metadata, variables, at: c.now() });
    if (!row) return { ok: false, kind: "limit" };
    return { ok: true, testCall: testCallView(state.batchId, row), dial: { seq: row.seq, agent: config.agent, to: input.to, from, variables } };
  });
  if (created.ok) {
    count("engine.test_calls");
    log("info", "call.test_created", { ...batchFields(state), seq: created.dial.seq, row: input.row });
  }
  return created;
}

/** GET …/test-calls: newest first; a call whose final report is overdue (past the call lease) is settled as failed first. */
export async function list(c: BatchContext, state: SchedulerState): Promise<TestCallView[]> {
  const tests = ledgerOf(c);
  const { callLeaseMs } = engineConfig(c.env);
  const error = `No final report came from the provider within ${Math.round(callLeaseMs / 1000)} s: the test call is taken as failed.`;
  const webhooks: Webhook[] = [];
  for (const t of tests.overdue(c.now() - callLeaseMs)) {
    const w = end(state, tests, t.seq, { outcome: "failed", at: c.now(), error });
    if (w) webhooks.push(w);
  }
  await Promise.all(webhooks.map(([type, key, data]) => emit(c, type, key, data)));
  return tests.list().map((t) => testCallView(state.batchId, t));
}
