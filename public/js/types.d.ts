// The API's bodies as the console reads them: only the fields it uses. They are
// declared (not imported from src/schemas/) because the console is plain browser
// modules with no build step; docs/openapi.json is the full contract.
// Types only: nothing imports this file at run time, and it is not served.

/** "draft": uploaded with start=false, stored and counted, nothing dialled until POST …/start. */
export type BatchStatusName = "draft" | "queued" | "processing" | "paused" | "completed" | "cancelled" | "failed";

/** Why a paused batch is paused: by request, by one of its stop rules, or at its budget (a newer server may name others). */
export type PausedReason = "manual" | "failure_rate" | "voicemail_rate" | "budget";
export type CallStatusName = "waiting" | "active" | "completed" | "failed" | "cancelled";

export interface Credentials {
  workspaceId: string;
  apiKey: string;
}

/** The error body every 4xx/5xx carries. */
export interface ErrorBody {
  error?: string;
  code?: string;
  details?: unknown;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
  hasNext: boolean;
  hasPrev: boolean;
}

/** A /calls item, a `recent_calls` entry, the data of a `call` event. */
export interface Call {
  jobId: string;
  status: CallStatusName;
  phone_number: string;
  endTime: number | null;
  /** Seconds the latest attempt was connected; null when it was not. */
  duration: number | null;
  error: string | null;
  /** The row's CSV columns (an excerpt in `recent_calls` and `call` events). */
  metadata: Record<string, string>;
  attempts: number;
  /** One of OutcomeName, or null before the first attempt ends. */
  outcome: string | null;
  nextAttemptAt: string | null;
  /** The agent's latest result for this call, or null. */
  result: CallResult | null;
}

/** What an agent reported about a conversation, as /calls and a call's detail show it. */
export interface CallResult {
  attempt: number;
  disposition: string | null;
  summary: string | null;
  sentiment: "positive" | "neutral" | "negative" | null;
  data: Record<string, string | number | boolean | null>;
  /** The transcript's API path (read with the API headers), or null. */
  transcriptUrl: string | null;
  recordingUrl: string | null;
  /** ISO 8601: when the person asked to be called back, or null. */
  callbackAt: string | null;
  optOut: boolean;
  /** ISO 8601. */
  receivedAt: string;
}

/** One dial of a call, in its detail. Times are epoch ms. */
export interface AttemptRecord {
  attempt: number;
  from: string | null;
  startTime: number | null;
  endTime: number | null;
  outcome: string | null;
  duration: number | null;
  error: string | null;
}

/** GET /batch-calls/{id}/calls/{callId}: the /calls item, every attempt, the result. */
export interface CallDetail extends Call {
  attemptHistory: AttemptRecord[];
}

/** A result's transcriptUrl: the conversation turn by turn. */
export interface Transcript {
  callId: string;
  attempt: number;
  turns: { role: string; text: string; at?: string | number }[];
}

/** Calls by their current outcome (the /status `outcomes` counters). */
export type OutcomeName = "answered" | "voicemail" | "no_answer" | "busy" | "failed" | "canceled" | "callback_requested";

/** GET /batch-calls/{id}/status; a batch's `progress`; the data of `snapshot` and `progress` events. */
export interface StatusBody {
  status: BatchStatusName;
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  startTime: number | null;
  completedTime: number | null;
  averageCallDuration: number;
  recent_calls: Call[];
  /** Calls by their current outcome, kept as counters by the server (exact for any batch size). */
  outcomes: Record<OutcomeName, number>;
  /** Calls by their latest result's disposition label. */
  dispositions: Record<string, number>;
  /** Why it is paused; null (or absent, from an older server) unless paused. */
  pausedReason?: PausedReason | null;
  /** Minutes billed so far: each finished attempt's duration rounded up to a minute (absent from an older server). */
  billedMinutes?: number;
  /** The batch's budget in minutes, or null for none; the event stream's copy always says null (read the batch's). */
  maxMinutes?: number | null;
}

/** calls × attempts per call × minutes per attempt, as a range: a dry run's and a draft's. */
export interface Estimate {
  calls: number;
  attemptsPerCall: { low: number; high: number };
  minutesPerAttempt: { low: number; high: number };
  minutes: { low: number; high: number };
  /** agent_history: from the agent's recent batches; default: it has too few finished attempts. */
  basis: "agent_history" | "default";
  basedOnAttempts: number;
  /** The basis as a sentence. */
  note: string;
}

/** The data of a `batch` event: the batch's status changed. */
export interface BatchStatusEvent {
  status: BatchStatusName;
  /** Present when the status became paused. */
  pausedReason?: PausedReason | null;
}

/** A batch's own brakes: shares (0.3 is 30%) of its last `window` finished attempts. */
export interface StopRules {
  maxFailureRate?: number;
  maxVoicemailRate?: number;
  window: number;
}

/** The counts a progress bar draws (a /status body, a listed batch's progress). */
export type Counts = Pick<StatusBody, "waiting" | "active" | "completed" | "failed" | "cancelled" | "total">;

/** GET /batch-calls/{id}, and an item of GET /batch-calls. */
export interface Batch {
  id: string;
  status: BatchStatusName;
  name: string | null;
  /** The uploaded file's name as the client sent it; null for a batch made before names were kept. */
  fileName: string | null;
  agentId: string;
  scheduledAt: string | null;
  /** As uploaded (the API types it as any JSON); the console reads these fields. */
  smartCallbackConfig: { enabled?: boolean; maxAttempts?: number } | null;
  callingWindow: {
    start?: string;
    end?: string;
    days?: string[];
    timezone?: string;
    blackoutDates?: string[];
    overrides?: Record<string, { start: string; end: string; days: string[] }>;
  } | null;
  /** null when it has none (and absent from an older server). */
  stopRules?: StopRules | null;
  /** The check asked before each dial, or null. */
  preDial?: { url: string; onError: "skip" | "dial" } | null;
  /** The budget in minutes (null: none), and the minutes billed so far. */
  maxMinutes?: number | null;
  billedMinutes?: number;
  /** A draft's estimate of minutes (null for any other status). */
  estimate?: Estimate | null;
  /** Its own cap on concurrent calls, when the server says (null: the workspace's). */
  maxConcurrentCalls?: number | null;
  totalCalls?: number;
  createdAt: string;
  progress: StatusBody;
}

export interface BatchList {
  batches: Batch[];
  pagination: Pagination;
}

export interface CallPage {
  calls: Call[];
  pagination: Pagination;
}

/** Start, pause, resume, retry and cancel answer with a sentence about what they did. */
export interface ControlResponse {
  message: string;
}

/** One invalid row of an upload (a 400's details, or a dry run's). */
export interface RowError {
  row: number;
  column: string | null;
  value: string | null;
  message: string;
}

/** POST /batch-calls: a dry run's verdict, or the batch that was started. */
export interface StartBatchResponse {
  batchId: string | null;
  totalCalls: number;
  message: string;
  duplicatesRemoved: number;
  suppressed: number;
  invalidRows: number;
  details?: RowError[];
  /** A dry run's estimate of the minutes the batch will use (absent from an older server). */
  estimate?: Estimate | null;
}

/** POST /batch-calls/{id}/rows: what an appended file added. */
export interface AppendRowsResponse {
  batchId: string;
  added: number;
  duplicates: number;
  suppressed: number;
  totalCalls: number;
  status: BatchStatusName;
}

/** POST /batch-calls/{id}/test-call, and an item of GET …/test-calls: one call outside the batch's counters. */
export interface TestCall {
  callId: string;
  batchId: string;
  test: true;
  row: number;
  to: string;
  from: string | null;
  status: "active" | "completed" | "failed" | "cancelled";
  outcome: string | null;
  startTime: number | string | null;
  endTime: number | string | null;
  duration: number | null;
  error: string | null;
  result: CallResult | null;
}

export interface Agent {
  agentId: string;
  name: string;
  provider: string;
  fromNumber: string | null;
  createdAt: string;
}

/** POST /agents: the agent's signing secret is in this answer only. */
export interface CreatedAgent extends Agent {
  signingSecret?: string;
}

export interface DncEntry {
  phoneNumber: string;
  createdAt: string;
  /** The call on which the person opted out; null for a number added directly. */
  source: { batchId: string; callId: string; at: string } | null;
}

export interface DncPage {
  phoneNumbers: DncEntry[];
  pagination: Pagination;
}

export interface DncAdded {
  added: number;
  skipped: number;
}
