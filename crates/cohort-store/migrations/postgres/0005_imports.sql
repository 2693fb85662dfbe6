-- CSV imports: what a preview found valid (members of a group, or new users with their
-- groups), applied as a whole on confirm.
CREATE TABLE imports (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_id TEXT,
    rows_json TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    applied_at BIGINT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
