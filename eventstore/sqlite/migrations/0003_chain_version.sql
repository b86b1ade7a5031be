-- Chain version 2: every record says which rule its hash was computed with.
-- Records stored before this step were hashed with version 1 (id, type,
-- data and both times) and keep it, so the default fills them in; records
-- appended from now on are hashed with version 2, which covers the metadata
-- too (eventstore.HashV2). The step runs inside migrate's one transaction,
-- so a crash leaves the ledger at version 2 of the schema or at 3, never
-- between; adding a column with a constant default rewrites no row.
ALTER TABLE events ADD COLUMN chain INTEGER NOT NULL DEFAULT 1 CHECK (chain IN (1, 2));
