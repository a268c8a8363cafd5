import * as z from "zod";
import type { QueueBacklog } from "../domain/admission";

/** One dial attempt of one call. `attempt` makes a redelivery recognisable. */
export const CallJobSchema = z.object({
  batchId: z.string().startsWith("batch_"),
  seq: z.number().int().min(0),
  attempt: z.number().int().min(1),
});
export type CallJob = z.infer<typeof CallJobSchema>;

/**
 * Queues accept at most 100 messages per sendBatch. Answers what the queue
 * said it held as it took the last of them (its backlog before them), or
 * null when it said nothing.
 */
export async function enqueueCallJobs(queue: Pick<Queue<CallJob>, "sendBatch">, jobs: CallJob[]): Promise<QueueBacklog | null> {
  let backlog: QueueBacklog | null = null;
  for (let i = 0; i < jobs.length; i += 100) {
    const sent = await queue.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
    backlog = sent?.metadata?.metrics ?? null;
  }
  return backlog;
}
