-- A batch's budget and what it has used, mirrored from its object with the
-- rest of the summary: max_minutes (NULL: no budget), billed_minutes (each
-- finished attempt's duration rounded up to whole minutes, summed) and
-- attempts_ended (finished attempts). A draft keeps the per-call rates of
-- its estimate (JSON of EstimateRates, NULL otherwise); its view multiplies
-- them by the calls it has. The index serves the estimate's history: an
-- agent's recent batches that finished attempts.
ALTER TABLE batches ADD COLUMN max_minutes INTEGER;
ALTER TABLE batches ADD COLUMN billed_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN attempts_ended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN estimate TEXT;
CREATE INDEX batches_agent_history ON batches(agent_id, created_at DESC) WHERE attempts_ended > 0;
