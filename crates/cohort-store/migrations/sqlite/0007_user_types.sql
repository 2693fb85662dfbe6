-- User types: the kinds of user a tenant keeps (always `member`), each user's type, and the
-- types a group admits (empty: every type). A provisioned or synced group keeps the name its
-- identity provider last gave, beside the name an administrator may have given it.
ALTER TABLE tenants ADD COLUMN user_types TEXT NOT NULL DEFAULT 'member';
ALTER TABLE users ADD COLUMN user_type TEXT NOT NULL DEFAULT 'member';
ALTER TABLE groups ADD COLUMN member_types TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN provider_name TEXT;
UPDATE groups SET provider_name = name WHERE source <> 'local';
