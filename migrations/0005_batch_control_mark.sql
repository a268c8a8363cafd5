-- A control request (cancel, pause, resume, retry) marks its batch here
-- before it reaches the batch's object. The cron's safety net visits every
-- marked batch as well as the queued and running ones: it makes sure a live
-- batch has an alarm and rewrites a summary that disagrees with the object
-- (the object is the truth), then clears the mark. So a Worker that died
-- between the object's step and the D1 summary write — a retried batch that
-- D1 still lists as completed, a resumed one it lists as paused — is found
-- within one cron period even if the client never asks again.
ALTER TABLE batches ADD COLUMN control_at INTEGER;
CREATE INDEX batches_control_marked ON batches(control_at) WHERE control_at IS NOT NULL;
