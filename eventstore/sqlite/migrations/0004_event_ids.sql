-- Event ids move from a unique index on events to a table of their own.
--
-- A unique index on random ids is written all over at every commit: an
-- import of a million events spent more than half of SQLite's time on it.
-- event_ids holds the same (id, seq) pairs, and event_ids_through says up to
-- which seq it holds every event. A store opened for bulk writes (an
-- import) appends events past that mark without indexing their ids, checks
-- them itself, and merges them into event_ids every 1,048,576 events and
-- when it closes; every other writer merges whatever
-- lies past the mark, in its own transaction, before it writes, and indexes
-- its own events before it commits. Ids stay unique across the ledger:
-- event_ids' key refuses a second copy at the merge, and the events past
-- the mark are checked against it before they are written.
--
-- SQLite cannot drop a UNIQUE constraint, so events is made again with the
-- same columns and rows (seq, and so every position, unchanged). The step
-- runs inside migrate's one transaction: a crash leaves the ledger at
-- schema version 3 or 4, never between.
CREATE TABLE events_v4 (
	seq          INTEGER PRIMARY KEY,
	id           BLOB    NOT NULL CHECK (length(id) = 16),
	stream       TEXT    NOT NULL CHECK (stream <> ''),
	version      INTEGER NOT NULL CHECK (version >= 0),
	type         TEXT    NOT NULL CHECK (type <> ''),
	data         BLOB    NOT NULL,
	metadata     BLOB,
	effective_at INTEGER NOT NULL,
	recorded_at  INTEGER NOT NULL,
	prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
	hash         BLOB    NOT NULL CHECK (length(hash) = 32),
	chain        INTEGER NOT NULL DEFAULT 1 CHECK (chain IN (1, 2)),
	UNIQUE (stream, version)
) STRICT;
INSERT INTO events_v4 (seq, id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain)
	SELECT seq, id, stream, version, type, data, metadata, effective_at, recorded_at, prev_hash, hash, chain FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;

CREATE TABLE event_ids (
	id  BLOB    PRIMARY KEY CHECK (length(id) = 16),
	seq INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO event_ids (id, seq) SELECT id, seq FROM events ORDER BY id;

-- One row: every event with a seq up to this one is in event_ids.
CREATE TABLE event_ids_through (
	seq INTEGER NOT NULL
) STRICT;
INSERT INTO event_ids_through (seq) SELECT coalesce(max(seq), 0) FROM events;
