-- CSV imports of group members: what a preview found valid, applied as a whole on confirm.
CREATE TABLE member_imports (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    rows_json TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    applied_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
