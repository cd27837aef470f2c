-- History import quota (PlanLimits.ImportBytesPerDay): the bytes each user uploaded per UTC day, counted as the upload
-- streams in (aborted and refused uploads included: they cost the same bandwidth and disk). Kept in the database so a
-- restart of the ingestor does not hand out a fresh quota.
CREATE TABLE IF NOT EXISTS import_usage (
    user_id uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     date   NOT NULL,
    bytes   bigint NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (user_id, day)
);
