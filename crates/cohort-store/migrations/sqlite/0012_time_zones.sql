-- The time zone a person reads times in, by IANA name (empty: the default of the tenant),
-- and the default of a tenant for its people (empty: UTC).
ALTER TABLE users ADD COLUMN time_zone TEXT;
ALTER TABLE tenants ADD COLUMN time_zone TEXT;
