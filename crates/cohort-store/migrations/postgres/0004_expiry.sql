-- The expiry sweeper finds expired membership rows without scanning the others.
CREATE INDEX memberships_expiry ON memberships (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
