-- Auto-assignment rules, and the groups an identity provider reports for a user (which rules
-- may read as user.ssoGroups).
ALTER TABLE users ADD COLUMN sso_groups TEXT NOT NULL DEFAULT '[]';

CREATE TABLE rules (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    expression TEXT NOT NULL,
    paused INTEGER NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_evaluated_at BIGINT,
    matched BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX rules_by_group ON rules (tenant_id, group_id);
