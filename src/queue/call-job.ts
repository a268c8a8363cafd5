import * as z from "zod";

/** One dial attempt of one call. `attempt` makes a redelivery recognisable. */
export const CallJobSchema = z.object({
  batchId: z.string().startsWith("batch_"),
  seq: z.number().int().min(0),
  attempt: z.number().int().min(1),
});
export type CallJob = z.infer<typeof CallJobSchema>;

/** Queues accept at most 100 messages per sendBatch. */
export async function enqueueCallJobs(queue: Pick<Queue<CallJob>, "sendBatch">, jobs: CallJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 100) {
    await queue.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
}
