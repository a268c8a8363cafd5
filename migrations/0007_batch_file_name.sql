-- The name of the file a batch was uploaded from, as the client sent it
-- (NULL for a file part sent without a filename, and for batches created
-- before this migration): an unnamed batch is shown by it in the console.
ALTER TABLE batches ADD COLUMN file_name TEXT;
