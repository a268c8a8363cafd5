import { log } from "../lib/log";
import { CallJobSchema, type CallJob } from "./call-job";

/**
 * Call-job consumer. Dialling (claim → re-check → provider → outcome) is
 * the execution engine's; until it lands, jobs are kept on the queue rather
 * than acknowledged, so none is lost. Malformed messages can never succeed
 * and are acknowledged with a log line.
 */
export async function handleCallJobs(batch: MessageBatch<CallJob>, _env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const job = CallJobSchema.safeParse(msg.body);
    if (!job.success) {
      log("error", "call_job.malformed", { messageId: msg.id });
      msg.ack();
      continue;
    }
    log("warn", "call_job.deferred", { batchId: job.data.batchId, seq: job.data.seq, attempt: job.data.attempt });
    msg.retry({ delaySeconds: 60 });
  }
}

/** Dead-letter consumer: a job that exhausted its retries. */
export async function handleDeadCallJobs(batch: MessageBatch<CallJob>, _env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const job = CallJobSchema.safeParse(msg.body);
    log("error", "call_job.dead_lettered", job.success ? { batchId: job.data.batchId, seq: job.data.seq } : { messageId: msg.id });
    msg.ack();
  }
}
