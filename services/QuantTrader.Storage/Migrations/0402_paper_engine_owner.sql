-- One active paper engine at a time (docs/scaling.md). A replica that takes the engine's lease writes the lease's fence
-- here; every engine step checks it inside its own transaction (holding the row FOR SHARE, so a take-over waits for
-- the step in flight), so a replica that lost its lease cannot write one more step after the new owner took over.
CREATE TABLE IF NOT EXISTS paper_engine_owner (
    id         integer     PRIMARY KEY CHECK (id = 1),
    fence      bigint      NOT NULL,
    owner      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO paper_engine_owner (id, fence, owner) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION paper_engine_check_fence(expected bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM paper_engine_owner WHERE id = 1 AND fence = expected FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'paper engine superseded: fence % no longer owns the engine', expected USING ERRCODE = 'QT001';
    END IF;
END $$;
