-- A batch's pre-dial check: the URL asked before each dial (NULL: none) and
-- what its silence or failure decides (skip or dial).
ALTER TABLE batches ADD COLUMN pre_dial_url TEXT;
ALTER TABLE batches ADD COLUMN pre_dial_on_error TEXT;
