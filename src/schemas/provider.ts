import * as z from "zod";

/** How an agent's calls are placed: the built-in simulated carrier, Twilio's Calls API, or the tenant's own dialer over signed webhooks. */
export const PROVIDERS = ["simulated", "twilio", "webhook"] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export type Provider = z.infer<typeof ProviderSchema>;
