import { agentHistory } from "../db/agent-history.repo";
import type { SmartCallbackConfig } from "../domain/batch-options";
import { estimateFor, estimateRates, type Estimate, type EstimateRates } from "../domain/budget";

/**
 * The per-call rates of a batch's estimate: from the agent's recent
 * batches when they have finished enough attempts, else the default the
 * batch's smart callbacks imply (domain/budget's estimateRates).
 */
export async function estimateRatesFor(env: Env, workspaceId: string, agentId: string, config: SmartCallbackConfig | null): Promise<EstimateRates> {
  return estimateRates(await agentHistory(env.DB, workspaceId, agentId), config);
}

/** The estimate of the minutes `calls` calls through this agent will bill (a dry run's). */
export async function estimateOf(env: Env, workspaceId: string, agentId: string, config: SmartCallbackConfig | null, calls: number): Promise<Estimate> {
  return estimateFor(calls, await estimateRatesFor(env, workspaceId, agentId, config));
}
