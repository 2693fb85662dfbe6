-- Counting a group's live members reads only this index, not every membership row: the groups
-- list and a large group's page count members on every view.
CREATE INDEX memberships_group_users ON memberships (tenant_id, group_id, user_id, expires_at);
