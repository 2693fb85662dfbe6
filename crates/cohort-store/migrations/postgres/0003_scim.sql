-- SCIM provisioning: a login name per user, tokens that open only the SCIM face, and
-- look-ups by the provisioning system's ids.
ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN user_name_key TEXT;
CREATE UNIQUE INDEX users_user_name ON users (tenant_id, user_name_key);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'api';
