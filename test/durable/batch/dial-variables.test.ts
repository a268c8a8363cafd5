import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dispatched } from "../../engine-helpers";
import { newWorkspace } from "../../helpers";

/** The dial context the batch's object hands the consumer for the file's first row, over RPC as the consumer claims. */
async function firstDial(csv: string) {
  const ws = await newWorkspace({ rateLimits: { callsPerSecond: 5, maxConcurrentCalls: 5 } });
  const { batchId, jobs } = await dispatched(ws, csv);
  expect(jobs).toHaveLength(1);
  const [result] = await env.BATCH_SCHEDULER.getByName(batchId).claim([{ seq: 0, attempt: 1 }]);
  expect(result?.kind).toBe("claimed");
  return result && "dial" in result ? result.dial : null;
}

describe("a dial's variables", () => {
  it("keep every custom column, even one named __proto__ or constructor", async () => {
    const dial = await firstDial("phone_number,first_name,__proto__,constructor,plan\n+12125550101,Ann,p-value,c-value,gold\n");
    // The variables must survive structured clone; compared as text (as the dial request's body carries them):
    // `{ __proto__: … }` written as a literal would set the prototype, not a key.
    expect(JSON.stringify(dial?.variables)).toBe('{"first_name":"Ann","__proto__":"p-value","constructor":"c-value","plan":"gold"}');
  });

  it("carry first_name, last_name and email in the file's order, and leave the number and the time zone out", async () => {
    const dial = await firstDial("plan,phone_number,email,timezone,last_name,first_name\ngold,+12125550101,ada@example.com,America/New_York,Lovelace,Ada\n");
    expect(Object.entries(dial!.variables)).toEqual([
      ["plan", "gold"],
      ["email", "ada@example.com"],
      ["last_name", "Lovelace"],
      ["first_name", "Ada"],
    ]);
    expect(dial?.to).toBe("+12125550101");
  });

  it("carry a named column the row left empty as an empty string", async () => {
    const dial = await firstDial("phone_number,first_name,email\n+12125550101,,\n");
    expect(dial?.variables).toEqual({ first_name: "", email: "" });
  });
});
