import type { Outcome } from "./vocabulary";

/** The contract's simulated outcomes, by the E.164 number's last digit: 0–4 answered, 5 voicemail, 6–7 no answer, 8 busy, 9 failed. */
export function simulatedOutcome(e164: string): Outcome {
  const d = Number(e164.at(-1));
  if (d <= 4) return "answered";
  if (d === 5) return "voicemail";
  if (d <= 7) return "no_answer";
  if (d === 8) return "busy";
  return "failed";
}
