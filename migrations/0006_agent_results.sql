-- The agent's side of a call.
--
-- Every agent now has a signing secret (agents of other providers created
-- before this migration get one when it is rotated). An agent may declare
-- the results its calls report (`result_schema`, JSON: dispositions and
-- fields), which fixes the columns of a batch's exports, and a Twilio
-- agent may ask for its calls to be recorded.
ALTER TABLE agents ADD COLUMN result_schema TEXT;
ALTER TABLE agents ADD COLUMN record INTEGER NOT NULL DEFAULT 0;

-- Where a number on the do-not-call list came from when a person asked on
-- a call (JSON {batchId, callId, at}); NULL for numbers added by the API.
ALTER TABLE dnc ADD COLUMN source TEXT;

-- The batch's summary carries its outcome and disposition counters (JSON),
-- written with the other counters by the batch's object.
ALTER TABLE batches ADD COLUMN outcomes TEXT;
ALTER TABLE batches ADD COLUMN dispositions TEXT;
