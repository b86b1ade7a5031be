-- The ledger's first schema: the events themselves and one row per stream.
--
-- events holds every record. seq is the store-wide position (Position.Commit
-- and Position.Prepare): SQLite serialises writers, so seq order is commit
-- order and a reader never sees a later seq before an earlier one. Times are
-- unix nanoseconds (UTC), ids 16-byte UUIDs, hashes 32-byte SHA-256 links of
-- the stream's chain. STRICT makes SQLite refuse values of the wrong type, so
-- a stray write by another tool cannot silently store text where bytes are
-- hashed.
CREATE TABLE events (
	seq          INTEGER PRIMARY KEY,
	id           BLOB    NOT NULL UNIQUE CHECK (length(id) = 16),
	stream       TEXT    NOT NULL CHECK (stream <> ''),
	version      INTEGER NOT NULL CHECK (version >= 0),
	type         TEXT    NOT NULL CHECK (type <> ''),
	data         BLOB    NOT NULL,
	metadata     BLOB,
	effective_at INTEGER NOT NULL,
	recorded_at  INTEGER NOT NULL,
	prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
	hash         BLOB    NOT NULL CHECK (length(hash) = 32),
	UNIQUE (stream, version)
) STRICT;

-- streams is the head of every stream, kept in the same transaction as the
-- events it summarises, so that Append finds the expected version, the last
-- hash and the last recorded time with one lookup, and Streams lists the
-- ledger without reading its events.
CREATE TABLE streams (
	name             TEXT    PRIMARY KEY,
	version          INTEGER NOT NULL,
	events           INTEGER NOT NULL,
	last_hash        BLOB    NOT NULL CHECK (length(last_hash) = 32),
	last_recorded_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
