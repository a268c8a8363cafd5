// The API's bodies as the console reads them: only the fields it uses. They are
// declared (not imported from src/schemas/) because the console is plain browser
// modules with no build step; docs/openapi.json is the full contract.
// Types only: nothing imports this file at run time, and it is not served.

export type BatchStatusName = "queued" | "processing" | "paused" | "completed" | "cancelled" | "failed";
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
  error: string | null;
  attempts: number;
  outcome: string | null;
  nextAttemptAt: string | null;
}

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
}

/** The counts a progress bar draws (a /status body, a listed batch's progress). */
export type Counts = Pick<StatusBody, "waiting" | "active" | "completed" | "failed" | "cancelled" | "total">;

/** GET /batch-calls/{id}, and an item of GET /batch-calls. */
export interface Batch {
  id: string;
  status: BatchStatusName;
  name: string | null;
  agentId: string;
  scheduledAt: string | null;
  /** As uploaded (the API types it as any JSON); the console reads these fields. */
  smartCallbackConfig: { enabled?: boolean; maxAttempts?: number } | null;
  callingWindow: { start?: string; end?: string } | null;
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

/** Pause, resume, retry and cancel answer with a sentence about what they did. */
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
}

export interface Agent {
  agentId: string;
  name: string;
  provider: string;
  fromNumber: string | null;
  createdAt: string;
}

/** POST /agents: a webhook agent's signing secret is in this answer only. */
export interface CreatedAgent extends Agent {
  signingSecret?: string;
}

export interface DncEntry {
  phoneNumber: string;
  createdAt: string;
}

export interface DncPage {
  phoneNumbers: DncEntry[];
  pagination: Pagination;
}

export interface DncAdded {
  added: number;
  skipped: number;
}
