-- A batch's stop rules (JSON of StopRules, NULL: none), and why a paused
-- batch is paused (manual, failure_rate, voicemail_rate; NULL otherwise),
-- mirrored from its object with the rest of the summary.
ALTER TABLE batches ADD COLUMN stop_rules TEXT;
ALTER TABLE batches ADD COLUMN paused_reason TEXT;
