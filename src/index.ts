import { createApp } from "./app";
import { handleCallJobs, handleDeadCallJobs } from "./queue/call-job.consumer";
import { sweepAbandonedUploads } from "./services/batch-intake";
import type { CallJob } from "./queue/call-job";

export { BatchScheduler } from "./durable/batch-scheduler";
export { SimulatedCarrier } from "./durable/simulated-carrier";
export { WorkspaceLimiter } from "./durable/workspace-limiter";

const app = createApp();

export default {
  fetch: app.fetch,

  async queue(batch, env, _ctx): Promise<void> {
    if (batch.queue.endsWith("-dlq")) await handleDeadCallJobs(batch, env);
    else await handleCallJobs(batch, env);
  },

  async scheduled(_controller, env, ctx): Promise<void> {
    ctx.waitUntil(sweepAbandonedUploads(env));
  },
} satisfies ExportedHandler<Env, CallJob>;
