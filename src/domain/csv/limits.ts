/**
 * Size limits for an uploaded CSV, in UTF-8 bytes (what the databases count).
 *
 * A valid row is stored whole as a JSON array in its batch's Durable Object
 * SQLite, and rows travel to it (and to D1 for the do-not-call check) as one
 * JSON text per slice, bound as a single parameter. Both databases refuse any
 * string, BLOB or row over 2 MB (D1: 2,000,000 bytes) with SQLITE_TOOBIG, so
 * the limits below keep every one of those well under half of that:
 *
 * - JSON escaping grows a cell at most 6× (a control character becomes
 *   `\u00XX`) plus 3 bytes per cell (quotes and comma), so a row within
 *   ROW_MAX_BYTES is at most 6 × 128 KiB = 768 KiB once stored — under
 *   SLICE_MAX_BYTES even alone, which is why every slice respects it.
 * - SLICE_MAX_BYTES (1 MiB) is half the 2 MB limit.
 */

/** One cell (and one header name) may hold at most this many bytes: 64 KiB. */
export const CELL_MAX_BYTES = 64 * 1024;

/** One row may hold at most this many bytes: its cells' bytes plus one per cell (the separators). 128 KiB. */
export const ROW_MAX_BYTES = 128 * 1024;

/**
 * Columns a file's header may name: 200. Every row is checked, stored and
 * exported column by column, so a header of thousands of one-byte columns
 * would multiply the work a small file causes. Empty trailing header columns
 * (as spreadsheets save them) are dropped before counting.
 */
export const MAX_COLUMNS = 200;

/** Rows per slice handed to a sink. */
export const SLICE_MAX_ROWS = 4000;

/** Bytes of JSON text per slice handed to a sink: 1 MiB, half of one bound value's 2 MB limit. */
export const SLICE_MAX_BYTES = 1024 * 1024;
