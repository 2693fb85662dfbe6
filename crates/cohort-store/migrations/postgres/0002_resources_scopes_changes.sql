CREATE TABLE resource_types (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    levels TEXT NOT NULL,
    builtin BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

INSERT INTO resource_types (tenant_id, name, levels, builtin)
SELECT id, 'agent', 'view use edit', TRUE FROM tenants;
INSERT INTO resource_types (tenant_id, name, levels, builtin)
SELECT id, 'datasource', 'view use edit', TRUE FROM tenants;
INSERT INTO resource_types (tenant_id, name, levels, builtin)
SELECT id, 'app', 'view use edit', TRUE FROM tenants;

CREATE TABLE resources (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    type_name TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, type_name, name_key),
    FOREIGN KEY (tenant_id, type_name) REFERENCES resource_types (tenant_id, name)
);

CREATE TABLE user_grants (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    level TEXT NOT NULL,
    granted_by TEXT,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, resource_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_grants_resource ON user_grants (tenant_id, resource_id);

CREATE TABLE group_grants (
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    level TEXT NOT NULL,
    granted_by TEXT,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, resource_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_grants_resource ON group_grants (tenant_id, resource_id);

CREATE TABLE group_scopes (
    tenant_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    scope_value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, scope_key, scope_value),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE changes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    touched TEXT NOT NULL,
    PRIMARY KEY (tenant_id, revision)
);

UPDATE roles SET permissions = permissions || ' cohort:resources.read'
WHERE builtin AND name IN ('group-admin', 'auditor');
