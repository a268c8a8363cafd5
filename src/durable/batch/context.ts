import { CallLedger } from "../../db/call-ledger";
import { meteredSql } from "../../db/metered-sql";
import { ClaimRate, type QueueBacklog } from "../../domain/admission";
import { count } from "../../lib/metrics";
import { workspaceEngineInfo, type WorkspaceEngineInfo } from "../../db/workspace.repo";
import { WORKSPACE_REFRESH_MS } from "../../engine-config";
import type { CallJob } from "../../queue/call-job";
import type { BatchConfig, SchedulerState } from "./contract";
import type { ProgressFeed } from "./progress-feed";

/** Ports the object uses, replaceable in tests (a queue that fails half-way, a fixed clock). */
/** `queue.metrics`: the shared queue's backlog, when the queue can say (a test's recording queue cannot). */
export type SchedulerPorts = { queue: Pick<Queue<CallJob>, "sendBatch"> & Partial<Pick<Queue<CallJob>, "metrics">>; now: () => number };

/**
 * What every step of a batch's object works with: its storage (the ledger
 * in SQL, its state and config records), the one clock, the workspace's
 * engine settings, and what this instance keeps in memory only. It is the
 * only code that reads the real time or the object's key-value records;
 * the steps (materialise, dispatch, claims, results, expiry, control, tick,
 * effects, clock) are free functions of it.
 */
export class BatchContext {
  ports: SchedulerPorts;
  /** Set by discard: work still running in this instance (a materialisation) must not write the batch back. */
  discarded = false;
  /** The live event stream's subscribers (memory only: a client whose stream drops reconnects). */
  feed: ProgressFeed | null = null;
  /** Ticks in a row that changed nothing (memory only: a new instance starts eager). */
  idleTicks = 0;
  /** The tick running now, if any: passes queue behind it. */
  tickChain: Promise<unknown> = Promise.resolve();
  /** The materialisation running now, if any: every read waits for it. */
  materialising: Promise<void> | null = null;
  /** Its jobs claimed lately, which set how many it may keep on the shared queue (domain/admission; memory only). */
  readonly claims = new ClaimRate();
  /** The shared queue's backlog as last seen (its metrics, or a send's answer), and when (memory only). */
  queueSeen: { backlog: QueueBacklog | null; at: number } | null = null;
  /** A cancelled batch's calls up to this seq are settled (memory only: a new instance walks from the start once). */
  settledThrough = -1;
  /** The config as this instance last read or wrote it (memory only): for synchronous reads (the event stream's status). */
  lastConfig: BatchConfig | null = null;
  private ledgerCache: CallLedger | null = null;
  private sqlCache: SqlStorage | null = null;
  private workspaceCache: { info: WorkspaceEngineInfo; at: number } | null = null;
  /**
   * The state and config records as this instance last read or wrote them: it is their only
   * writer, so a read needs no storage get (each was a SQL read and a deserialisation, ~5% of
   * the object's CPU at the workspace limit). Frozen: a step that wants a change spreads a copy.
   */
  private records: { state?: SchedulerState | null; config?: BatchConfig } = {};

  /** `envOf` reads the object's own env each time: the object holds it, tests may swap it. */
  constructor(
    readonly storage: DurableObjectStorage,
    private readonly envOf: () => Env,
  ) {
    this.ports = { queue: envOf().CALL_QUEUE as Queue<CallJob>, now: () => Date.now() };
  }

  get env(): Env {
    return this.envOf();
  }

  /** The batch's time: every timestamp the object stores or compares comes from here. */
  now(): number {
    return this.ports.now();
  }

  /** A stopwatch on the wall clock, for the metrics only (a test's fixed clock would read 0). */
  stopwatch(): () => number {
    const started = Date.now();
    return () => Date.now() - started;
  }

  /** The object's SQL storage; with METRICS=on its rows read and written are counted (do.BatchScheduler.rowsRead/rowsWritten). */
  get sql(): SqlStorage {
    this.sqlCache ??= meteredSql(this.storage.sql, "do.BatchScheduler", this.env.METRICS === "on", true).sql;
    return this.sqlCache;
  }

  get ledger(): CallLedger {
    this.ledgerCache ??= new CallLedger(this.sql);
    return this.ledgerCache;
  }

  async state(): Promise<SchedulerState | null> {
    if (this.records.state === undefined) this.records.state = frozen((await this.storage.get<SchedulerState>("state")) ?? null);
    return this.records.state;
  }

  async config(): Promise<BatchConfig> {
    const config = this.records.config ?? frozen(await this.storage.get<BatchConfig>("config"));
    if (!config) throw new Error("batch object has no config");
    this.records.config = config;
    this.lastConfig = config;
    return config;
  }

  /** Writes the records of a newly armed batch. */
  async create(config: BatchConfig, state: SchedulerState): Promise<void> {
    await this.putRecords(config, state);
  }

  /** An edit: the whole config and the state in one put, so a step that reads the config once sees one version. */
  async replaceConfig(config: BatchConfig, state: SchedulerState): Promise<void> {
    await this.putRecords(config, state);
  }

  /** Memory first, in the same step as the put (a read after it sees it, as storage's own would). */
  private async putRecords(config: BatchConfig, state: SchedulerState): Promise<void> {
    this.records = { config: frozen(config), state: frozen({ ...state }) };
    this.lastConfig = this.records.config!;
    await this.storage.put({ config, state });
  }

  /**
   * Changes some fields of the stored state, read fresh: never a copy taken
   * before an await, which could undo what another call wrote meanwhile
   * (a publish landing while the calls are being materialised).
   */
  async patchState(patch: Partial<SchedulerState>): Promise<SchedulerState> {
    if (this.discarded) throw new Error("the batch was discarded");
    const current = await this.state();
    if (!current) throw new Error("the batch has no state");
    const next = frozen({ ...current, ...patch });
    this.records.state = next;
    await this.storage.put("state", next);
    // The key-value record is a row too (billed as one): counted apart from the ledger's SQL.
    if (this.env.METRICS === "on") count("do.BatchScheduler.kvRowsWritten");
    return next;
  }

  /** Forgets everything stored and cached (the alarm is the clock's to delete). */
  async forget(): Promise<void> {
    this.discarded = true;
    this.records = {};
    await this.storage.deleteAll();
    this.records = {};
    this.ledgerCache = null;
    this.workspaceCache = null;
    this.lastConfig = null;
  }

  /** The workspace's limits, time zone and webhook URL, re-read from D1 at most every few seconds. */
  async workspace(state: SchedulerState): Promise<WorkspaceEngineInfo | null> {
    const at = Date.now();
    if (this.workspaceCache && at - this.workspaceCache.at < WORKSPACE_REFRESH_MS) return this.workspaceCache.info;
    const info = await workspaceEngineInfo(this.env.DB, state.workspaceId);
    this.workspaceCache = info ? { info, at } : null;
    return info;
  }
}

/** The fields every log line of a batch carries. */
export function batchFields(state: SchedulerState): { workspaceId: string; batchId: string } {
  return { workspaceId: state.workspaceId, batchId: state.batchId };
}

/** `value`, and everything in it, made read-only (the records' memory copies are shared by every step). */
function frozen<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}
