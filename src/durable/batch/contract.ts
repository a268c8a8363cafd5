import type { CallingWindow, SmartCallbackConfig } from "../../domain/batch-options";
import type { PreDial } from "../../domain/batch-safety";
import type { DeclaredResults } from "../../domain/agent-result";
import type { StopRules } from "../../domain/stop-rules";
import type { BatchStatus, Provider, Sentiment } from "../../domain/vocabulary";
import type { AttemptRow, CallRow, LedgerBatch, ResultCounters, ResultRow } from "../../db/call-ledger";

// What callers exchange with a batch's object over RPC: intake arms it, the
// call-job consumer claims and reports, status webhooks apply events, the
// control routes and the cron steer it, and the read routes page it.

export type { ApplyResult, CallEvent } from "../../domain/call-event";

/** The agent a batch dials through, as it was when the batch was created. */
export type DialAgent = {
  id: string;
  provider: Provider;
  from_number: string | null;
  voice_url: string | null;
  dial_url: string | null;
  /** The results its calls report (absent in batches created before agents declared them). */
  result_schema?: DeclaredResults | null;
  /** Twilio: record the call (absent: no). */
  record?: boolean;
};

/** Everything intake hands the object: the batch's rules and where its file is. */
export type BatchConfig = {
  columns: string[];
  agent: DialAgent;
  smartCallbackConfig: SmartCallbackConfig | null;
  callingWindow: CallingWindow | null;
  maxConcurrentCalls: number | null;
  /** The batch's own brakes (absent in batches created before stop rules). */
  stopRules?: StopRules | null;
  /** Asked before each dial (absent in batches created before it). */
  preDial?: PreDial | null;
  /** The budget: a running batch pauses itself once its billed minutes reach this (absent or null: none). */
  maxMinutes?: number | null;
  csvKey: string;
  defaultCountry: string;
  totalCalls: number;
};

export type ArmInput = {
  batchId: string;
  workspaceId: string;
  /** Epoch ms at which the batch is due to start. */
  dueAt: number;
  config: BatchConfig;
  /** Seqs intake found on the do-not-call list: left out when the calls are materialised. */
  suppressed: number[];
  /** Uploaded with start=false: the ledger starts as a draft, nothing dialled until started. */
  draft?: boolean;
};

/**
 * PATCH …/{batchId}: the settings an edit replaces (absent: unchanged,
 * null: cleared), already validated by the Worker. The object swaps its
 * whole config in one put, so a step that reads it once sees one version.
 */
export type EditInput = {
  changes: Partial<Pick<BatchConfig, "agent" | "smartCallbackConfig" | "callingWindow" | "maxConcurrentCalls" | "stopRules" | "preDial" | "maxMinutes">>;
  /** Sent without preDialUrl: the batch's current check keeps its URL and takes this policy (no check: nothing to apply). */
  preDialOnError?: PreDial["onError"];
  /** Epoch ms of a new scheduledAt: a draft's or a queued batch's start moves; a batch that has started refuses it. */
  dueAt?: number;
};

/** The config the next attempts use, or the status that refused the edit ("gone": the object holds no such batch). */
export type EditResult = { ok: true; config: BatchConfig } | { ok: false; status: BatchStatus | "gone" };

/** What the object keeps in storage besides its ledger (it survives eviction; memory does not). */
export type SchedulerState = {
  batchId: string;
  workspaceId: string;
  dueAt: number;
  /** Intake finished and D1 shows the batch: it may start. */
  published: boolean;
  /** Every call of the file is in the ledger. */
  materialised: boolean;
  /** Rows of the file already in the ledger: a resumed materialisation skips them. */
  materialisedRows: number;
  /** First attempts are handed out in file order; this is the next seq to look at. */
  cursor: number;
  /** Ledger version last written to the D1 summary, and when. */
  summaryVersion: number;
  summaryAt: number;
  /** batch.cancelled was handed to the webhook queue (absent in objects made before it existed: read as false). */
  cancelAnnounced?: boolean;
};

/** GET /v1/admin/batches/{id}/engine: the object's side of a batch. */
export type EngineState = {
  status: BatchStatus;
  version: number;
  summaryVersion: number;
  waiting: number;
  active: number;
  alarmAt: string | null;
  published: boolean;
  materialised: boolean;
};

export type DialContext = {
  to: string;
  /** The caller ID: the number the agent's pool gave this attempt, else the agent's fromNumber (null: none). */
  from: string | null;
  /** The start the rate gate counted: the call's startTime. */
  startedAt: number;
  /** Epoch ms after which this attempt must not be dialled: the claim is given back instead (DIAL_DEADLINE_MS). */
  dialBy: number;
  agent: DialAgent;
  variables: Record<string, string>;
  webhookUrl: string | null;
  workspaceId: string;
  /** The batch's pre-dial check, asked before the dial (null: none). */
  preDial: PreDial | null;
};

/** One attempt of a call, as a queue job names it. */
export type AttemptRef = { seq: number; attempt: number };

export type ClaimResult =
  | { seq: number; attempt: number; kind: "claimed"; dial: DialContext }
  | { seq: number; attempt: number; kind: "already" | "unknown" | "handed_back" }
  | { seq: number; attempt: number; kind: "wait"; waitMs: number }
  | { seq: number; attempt: number; kind: "not_claimable"; batchStatus: string };

export type { PlacedReport } from "../../telephony/provider";

export type ControlResult<T> =
  | { ok: true; value: T }
  | { ok: false; status: BatchStatus | "gone" }
  /** Resume refused: the batch has billed `billedMinutes` of its `maxMinutes` (raise maxMinutes first). */
  | { ok: false; status: "over_budget"; billedMinutes: number; maxMinutes: number };

export type Progress = LedgerBatch & ResultCounters & { recent: CallRow[] };

/** An agent's result for one attempt, already checked by the Worker (sizes, the agent's resultSchema); its transcript is already in R2. */
export type ResultReport = {
  attempt: number;
  disposition?: string;
  summary?: string;
  sentiment?: Sentiment;
  data?: Record<string, string | number | boolean | null>;
  /** R2 key in CSV_BUCKET: transcripts/{batchId}/{callId}/{attempt}.json */
  transcriptKey?: string;
  recordingUrl?: string;
  /** Epoch ms: when the recipient asked to be called back. */
  callbackAt?: number;
  /**
   * Set when callbackAt is already in the past (this sentence says so): the report is
   * refused with it unless the attempt's result already holds that callbackAt (a replay).
   */
  pastCallbackProblem?: string;
  optOut?: true;
  source: "agent" | "api" | "twilio" | "simulated";
};

/**
 * What became of a result:
 * - `recorded`: merged into the attempt's result (`changed` false for a replay); `callback` says whether
 *   a callbackAt scheduled an attempt now, will when the attempt ends (`pending`), was ignored
 *   (`callbackNote` says why), or there was none.
 * - `unknown_call`, or `not_dialled` for an attempt this call has not reached (it has made `attempts`).
 * - `invalid`: outside the batch's declared results; nothing recorded.
 */
export type RecordResultAnswer =
  | { kind: "recorded"; changed: boolean; callback: "scheduled" | "pending" | "none" | "ignored"; callbackNote?: string; nextAttemptAt?: string }
  | { kind: "unknown_call" }
  | { kind: "not_dialled"; attempts: number }
  /** Outside the resultSchema the batch's agent declared when the batch started (a 400 with this sentence). */
  | { kind: "invalid"; problem: string };

/** One call whole: its row (every column, its latest result), every finished attempt, and the batch's columns. */
export type CallDetail = {
  row: CallRow;
  attempts: AttemptRow[];
  result: ResultRow | null;
  /** Each attempt's transcript (R2 key), for the attempts whose agent sent one. */
  transcriptKeys: Record<number, string>;
  columns: string[];
  agentId: string;
  batchStatus: BatchStatus;
};

/** A row of an export: the call with its latest result and, for results.jsonl, every finished attempt. */
export type ExportRow = CallRow & { result: ResultRow | null; attemptList?: AttemptRow[] };
