-- Each batch's calls now live in its BatchScheduler object's own SQLite;
-- D1 keeps one summary row per batch, written by that object.
--
-- Cut-over: this migration drops the D1 calls table. Batches that are
-- queued, processing or paused when it runs have no ledger in their
-- object, so drain first: let running batches finish (or cancel them)
-- before deploying, as docs/scaling.md and the README describe.
DROP TRIGGER IF EXISTS calls_status_counters;
DROP INDEX IF EXISTS calls_due;
DROP INDEX IF EXISTS calls_active;
DROP INDEX IF EXISTS calls_dispatched;
DROP INDEX IF EXISTS calls_recent;
DROP TABLE IF EXISTS calls;

-- The object's ledger version at its last summary write: older writes lose.
ALTER TABLE batches ADD COLUMN summary_version INTEGER NOT NULL DEFAULT 0;
