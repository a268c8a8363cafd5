import type { Provider } from "../domain/vocabulary";
import { providerFor } from "./index";
import type { DialFate, LostDial } from "./provider";

export type { DialFate, LostDial } from "./provider";

/**
 * Asks the provider about a dial lost between its claim and the
 * provider's answer. Each adapter knows how far its provider can be asked
 * (CallProvider.findLostDial): the simulated carrier answers for certain,
 * Twilio's call list only when it shows the call, a webhook agent's remote
 * end not at all.
 */
export async function findLostDial(env: Env, provider: Provider, dial: LostDial): Promise<DialFate> {
  return providerFor(env, provider).findLostDial(dial);
}
