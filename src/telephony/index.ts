import { engineConfig } from "../engine-config";
import type { Provider } from "../domain/vocabulary";
import type { CallProvider } from "./provider";
import { SimulatedProvider } from "./simulated";
import { TwilioProvider, twilioApiBaseUrl } from "./twilio";
import { WebhookProvider } from "./webhook";

/** The adapter for an agent's provider, configured from Worker vars and secrets. */
export function providerFor(env: Env, provider: Provider): CallProvider {
  const publicBaseUrl = env.PUBLIC_BASE_URL || "http://localhost:8787";
  switch (provider) {
    case "simulated": {
      const s = Number(env.SIM_CALL_SECONDS);
      return new SimulatedProvider(env.SIM_CARRIER, Number.isFinite(s) && s >= 0 ? s : 3, env.SIM_RESULTS !== "off");
    }
    case "twilio":
      return new TwilioProvider({
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        apiBaseUrl: twilioApiBaseUrl(env),
        publicBaseUrl,
        callLeaseMs: engineConfig(env).callLeaseMs,
      });
    case "webhook":
      return new WebhookProvider({ db: env.DB, encKey: env.SECRETS_ENCRYPTION_KEY, publicBaseUrl });
  }
}
