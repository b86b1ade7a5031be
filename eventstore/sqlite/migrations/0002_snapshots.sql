-- Snapshots: derived data kept beside the events so that a reader need not
-- decode a long stream from its first event (the ledger keeps each
-- instrument's decoded events here). A snapshot names the last record it
-- covers, by version and hash, so a reader can check it against the chain;
-- it is a cache and never part of the hash chain.
CREATE TABLE snapshots (
	name    TEXT    PRIMARY KEY,
	stream  TEXT    NOT NULL,
	version INTEGER NOT NULL CHECK (version >= 0),
	hash    BLOB    NOT NULL CHECK (length(hash) = 32),
	data    BLOB    NOT NULL
) STRICT;
