-- Each webhook agent signs its own dial requests and verifies its own
-- status reports: no deployment-wide secret lets one tenant's agent sign a
-- report that changes another's call. Secrets are stored only encrypted
-- (AES-GCM with SECRETS_ENCRYPTION_KEY, like workspace webhook secrets).
--
-- After a rotation the previous secret keeps verifying until its expiry
-- (24 h), so a dialer can switch keys without dropping reports. Agents of
-- other providers, and webhook agents created before this migration, have
-- none: such an agent's dials are refused until its secret is rotated.
ALTER TABLE agents ADD COLUMN signing_secret_enc TEXT;
ALTER TABLE agents ADD COLUMN previous_secret_enc TEXT;
ALTER TABLE agents ADD COLUMN previous_secret_expires_at TEXT;
