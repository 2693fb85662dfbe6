-- Console sessions: a person signed in with one of their API tokens. Only the hash of the
-- session's secret (the cookie) is kept, so every server sharing the database can resume it.
-- Revoking the token ends its sessions with it.
CREATE TABLE console_sessions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id_hash TEXT NOT NULL,
    token_id TEXT NOT NULL,
    held TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id_hash),
    FOREIGN KEY (tenant_id, token_id) REFERENCES api_tokens (tenant_id, id) ON DELETE CASCADE
);
