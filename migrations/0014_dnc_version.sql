-- The do-not-call list's version per workspace: bumped in the same batch as
-- every statement that changes the workspace's list (dnc.repo), so a list
-- an isolate read whole and kept (services/dnc-list-cache.ts) is used only
-- while nothing has changed since.
ALTER TABLE workspaces ADD COLUMN dnc_version INTEGER NOT NULL DEFAULT 0;
