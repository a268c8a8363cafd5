import type { Outcome, Sentiment } from "./vocabulary";

/** The contract's simulated outcomes, by the E.164 number's last digit: 0–4 answered, 5 voicemail, 6–7 no answer, 8 busy, 9 failed. */
export function simulatedOutcome(e164: string): Outcome {
  const d = Number(e164.at(-1));
  if (d <= 4) return "answered";
  if (d === 5) return "voicemail";
  if (d <= 7) return "no_answer";
  if (d === 8) return "busy";
  return "failed";
}

/** One turn of a simulated conversation. */
export type SimulatedTurn = { role: "agent" | "user"; text: string };

/** What the simulated agent reports for an answered attempt: the body of POST /v1/agent/calls/{callId}/result. */
export type SimulatedResult = {
  attempt: number;
  disposition: string;
  summary: string;
  sentiment: Sentiment;
  data?: Record<string, string | number>;
  transcript: SimulatedTurn[];
  /** ISO 8601 (UTC): when the person asked to be called back. */
  callbackAt?: string;
  optOut?: true;
};

/** "Call me back in two hours": the simulated person's callback request, measured from the call's end. */
export const SIM_CALLBACK_AFTER_MS = 2 * 60 * 60 * 1000;
/**
 * The shortest callback request however large DEV_TIME_SCALE is: a result
 * delivered a little late (the carrier's alarm, a retry) must still ask for
 * a time ahead of the receiver's clock, or it is refused as in the past.
 */
export const MIN_SIM_CALLBACK_MS = 10_000;

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

export type SimulatedCall = {
  /** E.164 number: its last digit decides the outcome and the result. */
  to: string;
  attempt: number;
  /** The dial's variables (first_name greets the person). */
  variables: Record<string, string>;
  /** Epoch ms at which the call ended: callbackAt is counted from it. */
  endedAt: number;
  /** DEV_TIME_SCALE (1 outside development): divides the callback request's "in two hours". */
  timeScale: number;
};

/**
 * The simulated agent's result for an attempt, deterministic from the
 * number, the attempt and the dial's variables, or null when the call is not
 * answered (voicemail and the rest report nothing). By the last digit:
 *
 * | digit | disposition          | also                                                          |
 * |-------|----------------------|---------------------------------------------------------------|
 * | 0     | `interested`         | `data.budget` (a number), sentiment positive                  |
 * | 1     | `not_interested`     | `data.reason`, sentiment negative                             |
 * | 2     | `callback_requested` | `callbackAt` = the call's end + 2 hours (÷ DEV_TIME_SCALE in development, at least 10 s); on attempt 1 only — the callback itself ends `booked` |
 * | 3     | `do_not_call`        | `optOut: true`, sentiment negative                            |
 * | 4     | `booked`             | `data.slot` (e.g. "Tuesday 10:00"), sentiment positive        |
 *
 * Every answered call gets a summary and a four-turn transcript whose
 * first agent turn greets the row's first_name ("Hi Ada, …"), or "Hi
 * there" without one. The rest of the number picks the budget and the slot.
 */
export function simulatedResult(call: SimulatedCall): SimulatedResult | null {
  if (simulatedOutcome(call.to) !== "answered") return null;
  const digit = Number(call.to.at(-1));
  // The digits before the last vary the figures between numbers of one disposition.
  const k = Math.floor(Number(call.to.replace(/\D/g, "").slice(-4)) / 10);
  const name = call.variables.first_name?.trim() || null;
  const who = name ?? "The person";
  const greeting: SimulatedTurn = {
    role: "agent",
    text: `Hi ${name ?? "there"}, this is Sam calling from Example Co about our scheduling service. Do you have a minute?`,
  };
  const talk = (user: string, agent: string, closing: string): SimulatedTurn[] => [
    greeting,
    { role: "user", text: user },
    { role: "agent", text: agent },
    { role: "user", text: closing },
  ];
  const base = { attempt: call.attempt };

  if (digit === 0) {
    const budget = 500 * (2 + (k % 19));
    return {
      ...base,
      disposition: "interested",
      summary: `${who} is interested and has a budget of about $${budget}; send them the details.`,
      sentiment: "positive",
      data: { budget },
      transcript: talk(
        "Sure, what is it about?",
        "We book appointments for you by phone. Would that help?",
        `It would. We have about $${budget} for it this quarter.`,
      ),
    };
  }
  if (digit === 1) {
    return {
      ...base,
      disposition: "not_interested",
      summary: `${who} is not interested: they already use another provider.`,
      sentiment: "negative",
      data: { reason: "already has a provider" },
      transcript: talk("What is it about?", "We book appointments for you by phone.", "Thanks, but we already have someone for that."),
    };
  }
  if (digit === 2 && call.attempt === 1) {
    const after = Math.max(MIN_SIM_CALLBACK_MS, Math.round(SIM_CALLBACK_AFTER_MS / call.timeScale));
    return {
      ...base,
      disposition: "callback_requested",
      summary: `${who} was busy and asked to be called back in two hours.`,
      sentiment: "neutral",
      transcript: talk("I'm in a meeting, can you call me back in a couple of hours?", "Of course. I'll call you back in two hours.", "Thanks, talk then."),
      callbackAt: new Date(call.endedAt + after).toISOString(),
    };
  }
  if (digit === 3) {
    return {
      ...base,
      disposition: "do_not_call",
      summary: `${who} asked never to be called again; the number is on the do-not-call list.`,
      sentiment: "negative",
      transcript: talk("Please take my number off your list.", "Understood. You will not be called again.", "Thank you."),
      optOut: true,
    };
  }
  // 4, and the callback a 2 asked for.
  const slot = `${DAYS[k % DAYS.length]} ${9 + (k % 8)}:00`;
  return {
    ...base,
    disposition: "booked",
    summary: `${who} booked a meeting for ${slot}.`,
    sentiment: "positive",
    data: { slot },
    transcript: talk("Yes, I was hoping you'd call.", `Great. Does ${slot} work for a meeting?`, `${slot} works. See you then.`),
  };
}
