import { createApp } from "./app";
import { instrumentEnv, instrumentHandler } from "./lib/metrics";
import { handleCallJobs, handleDeadCallJobs } from "./consumers/call-job.consumer";
import { handleDeadWebhookEvents, handleWebhookEvents } from "./consumers/webhook-event.consumer";
import type { WebhookEvent } from "./queue/webhook-event";
import { sweepAbandonedUploads } from "./services/batch-intake";
import { restoreLostAlarms } from "./services/batch-control";
import type { CallJob } from "./queue/call-job";

export { BatchScheduler } from "./durable/batch/scheduler";
export { SimulatedCarrier } from "./telephony/simulated-carrier";
export { WorkspaceLimiter } from "./durable/workspace-limiter";

const app = createApp();

export default instrumentHandler({
  fetch: (req, env, ctx) => app.fetch(req, instrumentEnv(env), ctx),

  async queue(batch, rawEnv, _ctx): Promise<void> {
    const env = instrumentEnv(rawEnv);
    switch (batch.queue) {
      case "call-jobs":
        return handleCallJobs(batch as MessageBatch<CallJob>, env);
      case "call-jobs-dlq":
        return handleDeadCallJobs(batch as MessageBatch<CallJob>, env);
      case "webhook-events":
        return handleWebhookEvents(batch as MessageBatch<WebhookEvent>, env);
      case "webhook-events-dlq":
        return handleDeadWebhookEvents(batch as MessageBatch<WebhookEvent>);
      default:
        throw new Error(`no consumer for queue ${batch.queue}`);
    }
  },

  async scheduled(_controller, env, ctx): Promise<void> {
    ctx.waitUntil(sweepAbandonedUploads(instrumentEnv(env)));
    ctx.waitUntil(restoreLostAlarms(instrumentEnv(env)));
  },
} satisfies ExportedHandler<Env, CallJob | WebhookEvent>);
