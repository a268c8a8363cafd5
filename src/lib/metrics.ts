/**
 * Counts what the engine really issues — D1 statements, Durable Object
 * calls — and samples tick durations, so the bench can report per-call
 * costs from the running service instead of from arithmetic. Off unless
 * the Worker var METRICS is "on": then bindings are wrapped by
 * `instrumentEnv` and the totals are read at GET /v1/admin/metrics.
 * Counters live in the isolate (locally the Worker and its objects share
 * one), so they are a development tool, not production telemetry.
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

const wrapped = new WeakMap<object, Env>();

/** With METRICS=on, the same env with counting D1 and Durable Object bindings; otherwise `env` itself. */
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
  };
  wrapped.set(env, out);
  return out;
}
