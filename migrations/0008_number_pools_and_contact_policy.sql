-- Number pools: an agent dials from one or more numbers (agent_numbers, in
-- the order given; `enabled` 0 rests a number). agents.from_number stays the
-- pool's first number, so clients reading fromNumber see what they saw.
-- agents.caller_id is the pool's strategy and per-number limits as JSON
-- ({"strategy","perNumber":{"callsPerSecond","maxCallsPerDay"}}), NULL for
-- an agent that never set one (round-robin, no per-number limit).
ALTER TABLE agents ADD COLUMN caller_id TEXT;
CREATE TABLE agent_numbers (
  agent_id     TEXT NOT NULL REFERENCES agents(id),
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  e164         TEXT NOT NULL,
  position     INTEGER NOT NULL,
  enabled      INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (agent_id, e164)
);
-- A number belongs to one workspace: intake of a pool looks its numbers up here.
CREATE INDEX agent_numbers_by_number ON agent_numbers(e164, workspace_id);
INSERT INTO agent_numbers (agent_id, workspace_id, e164, position, enabled)
  SELECT id, workspace_id, from_number, 0, 1 FROM agents WHERE from_number IS NOT NULL AND deleted_at IS NULL;

-- A workspace's contact policy across all its batches, as JSON
-- ({"maxAttempts":[{"count","hours"}],"minGapMinutes"}); NULL: none.
ALTER TABLE workspaces ADD COLUMN contact_policy TEXT;
