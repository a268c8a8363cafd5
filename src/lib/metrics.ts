/**
 * Counts what the engine really issues — D1 statements, Durable Object
 * calls, queue messages, Worker invocations — and samples tick durations,
 * so the bench can report per-call costs (and the platform's bill, see
 * scripts/lib/prices.mjs) from the running service instead of from
 * arithmetic. Off unless the Worker var METRICS is "on": then bindings are
 * wrapped by `instrumentEnv`, the handlers by `instrumentHandler`, and the
 * totals are read at GET /v1/admin/metrics. Counters live in the isolate
 * (locally the Worker and its objects share one), so they are a
 * development tool, not production telemetry.
 */
const counters = new Map<string, number>();
const samples = new Map<string, number[]>();
const MAX_SAMPLES = 10_000;

export function count(name: string, n = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + n);
}

export function observe(name: string, value: number): void {
  const list = samples.get(name) ?? [];
  if (list.length < MAX_SAMPLES) list.push(value);
  samples.set(name, list);
}

export function resetMetrics(): void {
  counters.clear();
  samples.clear();
}

export function metricsSnapshot(): { counters: Record<string, number>; samples: Record<string, number[]> } {
  return { counters: Object.fromEntries(counters), samples: Object.fromEntries(samples) };
}

function countingDb(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "prepare") {
        return (sql: string) => {
          count("d1.statements");
          return target.prepare(sql);
        };
      }
      if (prop === "exec") {
        return (sql: string) => {
          count("d1.statements");
          return target.exec(sql);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A stub whose method calls are counted as `rpc.<name>`. */
function countingStub<T extends object>(stub: T, name: string): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        count(`rpc.${name}`);
        count(`rpc.${name}.${prop}`);
        // Reflect.apply, not value.apply: a stub's properties are wildcards, so `.apply` on an
        // RPC method is another remote method, which would try to send the stub itself.
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

// biome-ignore lint/suspicious/noExplicitAny: any Durable Object class; the proxy only counts calls.
function countingNamespace<T extends DurableObjectNamespace<any>>(ns: T, name: string): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "getByName" || prop === "get") {
        return (...args: unknown[]) => countingStub(Reflect.apply(value as (...a: unknown[]) => object, target, args), name);
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Queues bill one operation per 64 KB of a message written, read and deleted (each message carries
 * about 100 bytes of metadata): the chunks a message costs, from its JSON size (bytes ≈ UTF-16 units
 * here: the bodies are ASCII).
 */
const QUEUE_CHUNK_BYTES = 64_000;
const QUEUE_METADATA_BYTES = 100;

function chunksOf(body: unknown): number {
  const bytes = (JSON.stringify(body) ?? "").length + QUEUE_METADATA_BYTES;
  return Math.max(1, Math.ceil(bytes / QUEUE_CHUNK_BYTES));
}

/**
 * A producer whose messages are counted as `queue.<name>.sent` (and `queue.sent` over every queue),
 * with the 64 KB chunks they bill as `queue.<name>.sentChunks`. `send` and `sendBatch` are passed on
 * unchanged (a batch as the same array).
 */
function countingQueue<T>(queue: Queue<T>, name: string): Queue<T> {
  const sent = (bodies: unknown[]) => {
    count(`queue.${name}.sent`, bodies.length);
    count("queue.sent", bodies.length);
    count(
      `queue.${name}.sentChunks`,
      bodies.reduce<number>((n, b) => n + chunksOf(b), 0),
    );
  };
  return new Proxy(queue, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "send") {
        return (body: T, options?: QueueSendOptions) => {
          sent([body]);
          return target.send(body, options);
        };
      }
      if (prop === "sendBatch") {
        return (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          sent(list.map((m) => m.body));
          return target.sendBatch(list, options);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The Worker's entry points with each invocation counted (METRICS=on only): `worker.fetch` per HTTP
 * request, `worker.queue` per consumer batch — with `queue.<name>.batches`, the messages it
 * delivered as `queue.<name>.delivered` (each a billed read; a retried one is read again) and the
 * redeliveries among them as `queue.<name>.redelivered` — and `worker.scheduled` per cron run.
 * `worker.requests` is the sum Cloudflare bills as Worker requests. The handlers run unchanged.
 */
// biome-ignore lint/suspicious/noExplicitAny: any queue's messages; the wrapper only counts them.
export function instrumentHandler<H extends ExportedHandler<Env, any>>(handler: H): H {
  const { fetch, queue, scheduled } = handler as unknown as ExportedHandler<Env, unknown>;
  const invoked = (env: Env, kind: string) => {
    if (env.METRICS !== "on") return false;
    count("worker.requests");
    count(`worker.${kind}`);
    return true;
  };
  const counted: ExportedHandler<Env, unknown> = {
    ...(fetch && {
      fetch: (request, env, ctx) => {
        invoked(env, "fetch");
        return fetch.call(handler, request, env, ctx);
      },
    }),
    ...(queue && {
      queue: (batch, env, ctx) => {
        if (invoked(env, "queue")) {
          count(`queue.${batch.queue}.batches`);
          count(`queue.${batch.queue}.delivered`, batch.messages.length);
          count(`queue.${batch.queue}.redelivered`, batch.messages.filter((m) => m.attempts > 1).length);
        }
        return queue.call(handler, batch, env, ctx);
      },
    }),
    ...(scheduled && {
      scheduled: (controller, env, ctx) => {
        invoked(env, "scheduled");
        return scheduled.call(handler, controller, env, ctx);
      },
    }),
  };
  // The handler's own type (its entry points present, as declared), with the counted ones in their place.
  return { ...handler, ...counted } as H;
}

const wrapped = new WeakMap<object, Env>();

/** With METRICS=on, the same env with counting D1, Durable Object and queue bindings; otherwise `env` itself. */
export function instrumentEnv(env: Env): Env {
  if (env.METRICS !== "on") return env;
  const hit = wrapped.get(env);
  if (hit) return hit;
  const out: Env = {
    ...env,
    DB: countingDb(env.DB),
    BATCH_SCHEDULER: countingNamespace(env.BATCH_SCHEDULER, "BatchScheduler"),
    WORKSPACE_LIMITER: countingNamespace(env.WORKSPACE_LIMITER, "WorkspaceLimiter"),
    SIM_CARRIER: countingNamespace(env.SIM_CARRIER, "SimulatedCarrier"),
    // Named as in wrangler.toml: the counters read `queue.call-jobs.sent`, as the consumer's `queue.call-jobs.delivered`.
    CALL_QUEUE: countingQueue(env.CALL_QUEUE, "call-jobs"),
    WEBHOOK_QUEUE: countingQueue(env.WEBHOOK_QUEUE, "webhook-events"),
  };
  wrapped.set(env, out);
  return out;
}
