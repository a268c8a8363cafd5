import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dispatched } from "../../engine-helpers";
import { newWorkspace } from "../../helpers";

describe("a dial's variables", () => {
  it("keep every custom column, even one named __proto__ or constructor", async () => {
    const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
    const csv = "phone_number,first_name,__proto__,constructor,plan\n+12125550101,Ann,p-value,c-value,gold\n";
    const { batchId, jobs } = await dispatched(ws, csv);
    expect(jobs).toHaveLength(1);
    // Over RPC, as the queue consumer claims: the variables must survive structured clone.
    const [result] = await env.BATCH_SCHEDULER.getByName(batchId).claim([{ seq: 0, attempt: 1 }]);
    expect(result?.kind).toBe("claimed");
    const dial = result && "dial" in result ? result.dial : null;
    // As the dial request's body carries them.
    // Compared as text: `{ __proto__: … }` written as a literal would set the prototype, not a key.
    expect(JSON.stringify(dial?.variables)).toBe('{"__proto__":"p-value","constructor":"c-value","plan":"gold"}');
  });
});
