import { count } from "../lib/metrics";

/**
 * An object's SQL storage whose rows read and written are counted, the way
 * Cloudflare bills them (each cursor's `rowsRead`/`rowsWritten`, index rows
 * included), as `<name>.rowsRead` and `<name>.rowsWritten` in the metrics
 * (with METRICS=on; otherwise the storage itself and a no-op flush). A
 * cursor's figures are final only once it has been read to its end, so
 * cursors are kept and summed by `flush`: the object calls it at the end of
 * each method, or (`autoFlush`) it runs on a timer after the cursors of the
 * current turn, by when the code that opened them has read them.
 */
export function meteredSql(sql: SqlStorage, name: string, on: boolean, autoFlush = false): { sql: SqlStorage; flush: () => void } {
  if (!on) return { sql, flush: () => {} };
  let open: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const metered = new Proxy(sql, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "exec") return typeof value === "function" ? value.bind(target) : value;
      return (query: string, ...params: SqlStorageValue[]) => {
        const cursor = target.exec(query, ...params);
        open.push(cursor);
        if (autoFlush && timer === null) timer = setTimeout(flush, 0);
        return cursor;
      };
    },
  });
  const flush = () => {
    timer = null;
    const done = open;
    open = [];
    count(
      `${name}.rowsRead`,
      done.reduce((n, c) => n + c.rowsRead, 0),
    );
    count(
      `${name}.rowsWritten`,
      done.reduce((n, c) => n + c.rowsWritten, 0),
    );
  };
  return { sql: metered, flush };
}
