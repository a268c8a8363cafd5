// The view moved to src/views/call.ts; this re-export serves durable/batch-scheduler.ts until its import points there.
export { toCallView } from "../views/call";
