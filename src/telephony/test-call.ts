import { log } from "../lib/log";
import type { TestCallRequest, TestCallView } from "../schemas/test-call";
import { createTestCall } from "../services/test-call";
import { providerFor } from "./index";
import { type DialResult, placedReport } from "./provider";

/**
 * A test call, end to end on the Worker's side: the batch's object records
 * it (services/test-call.ts), it is dialled at once through the batch's
 * agent (not through the call queue: no limiter, no contact policy, no
 * pre-dial check — it calls the operator, not a recipient), and what the
 * provider answered goes back to the object, which announces call.started
 * with `test: true`. Its status reports then reach the object like any
 * call's. Returns the call as the object shows it after the dial.
 */
export async function placeTestCall(env: Env, ctx: { workspaceId: string; requestId: string }, batchId: string, body: TestCallRequest): Promise<TestCallView> {
  const { testCall, dial } = await createTestCall(env, ctx, batchId, body);
  let result: DialResult;
  try {
    result = await providerFor(env, dial.agent.provider).dial({
      callId: testCall.callId,
      batchId,
      seq: dial.seq,
      attempt: 1,
      to: dial.to,
      from: dial.from,
      agentId: dial.agent.id,
      voiceUrl: dial.agent.voice_url,
      dialUrl: dial.agent.dial_url,
      variables: dial.variables,
      record: dial.agent.record === true,
    });
  } catch (err) {
    // An adapter that throws sent nothing we know of: the test call fails now rather than waiting out a call's lease.
    result = { kind: "unreachable", error: `The provider could not be reached: ${String(err)}` };
  }
  log("info", "call.test_dial", { workspaceId: ctx.workspaceId, batchId, seq: dial.seq, provider: dial.agent.provider, result: result.kind });
  const stub = env.BATCH_SCHEDULER.getByName(batchId);
  await stub.placed([placedReport(dial.seq, 1, result)]);
  const now = (await stub.testCalls())?.find((t) => t.callId === testCall.callId);
  return (now as TestCallView | undefined) ?? testCall;
}
