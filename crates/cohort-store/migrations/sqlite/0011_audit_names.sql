-- The names of what an event mentions (its actor, its target, the ids in its bodies) as they
-- were when it happened, as a JSON object from id to name: the log reads in names even after
-- a rename or a deletion.
ALTER TABLE audit_events ADD COLUMN names_json TEXT;
