package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/consensus-ledger/consensus/eventstore"
)

// ReadOnly reports whether the store was opened read-only, so callers can
// skip work whose only point is a write.
func (s *Store) ReadOnly() bool { return s.readOnly }

// LoadSnapshot implements eventstore.Snapshotter.
func (s *Store) LoadSnapshot(ctx context.Context, name string) (eventstore.Snapshot, bool, error) {
	snap := eventstore.Snapshot{Name: name}
	var hash []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT stream, version, hash, data FROM snapshots WHERE name = ?`, name).
		Scan(&snap.Stream, &snap.Version, &hash, &snap.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, false, nil
	}
	if err != nil {
		return snap, false, fmt.Errorf("load snapshot %s: %w", name, withContext(ctx, err))
	}
	copy(snap.Hash[:], hash)
	return snap, true, nil
}

// saveSnapshot is the statement that saves one snapshot. A snapshot never
// replaces one that covers more of its stream, so two writers saving at
// once keep the newer.
const saveSnapshot = `INSERT INTO snapshots (name, stream, version, hash, data) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET stream = excluded.stream, version = excluded.version,
		hash = excluded.hash, data = excluded.data
	WHERE excluded.version > snapshots.version`

// SaveSnapshot implements eventstore.Snapshotter.
func (s *Store) SaveSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	return s.SaveSnapshots(ctx, []eventstore.Snapshot{snap})
}

// SaveSnapshots saves several snapshots, each as SaveSnapshot does, in one
// transaction: one wait for the disk instead of one a snapshot (the ledger
// keeps a stream's snapshot in a dozen rows, and a rebuild saves thousands).
func (s *Store) SaveSnapshots(ctx context.Context, snaps []eventstore.Snapshot) (err error) {
	if len(snaps) == 0 {
		return nil
	}
	if s.readOnly {
		return fmt.Errorf("save snapshot %s: %w", snaps[0].Name, eventstore.ErrReadOnly)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save snapshot %s: %w", snaps[0].Name, withContext(ctx, translate(err)))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, snap := range snaps {
		if _, err := tx.ExecContext(ctx, saveSnapshot, snap.Name, snap.Stream, snap.Version, snap.Hash[:], snap.Data); err != nil {
			return fmt.Errorf("save snapshot %s: %w", snap.Name, withContext(ctx, translate(err)))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save snapshot %s: %w", snaps[0].Name, withContext(ctx, translate(err)))
	}
	return nil
}

// DeleteSnapshot implements eventstore.Snapshotter.
func (s *Store) DeleteSnapshot(ctx context.Context, name string) error {
	if s.readOnly {
		return fmt.Errorf("delete snapshot %s: %w", name, eventstore.ErrReadOnly)
	}
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM snapshots WHERE name = ?`, name); err != nil {
		return fmt.Errorf("delete snapshot %s: %w", name, withContext(ctx, err))
	}
	return nil
}

// DeleteSnapshotsWithPrefix deletes every snapshot whose name starts with
// prefix, such as all the chunks of one stream's snapshot, through the
// index on names.
func (s *Store) DeleteSnapshotsWithPrefix(ctx context.Context, prefix string) error {
	if s.readOnly {
		return fmt.Errorf("delete the snapshots named %s*: %w", prefix, eventstore.ErrReadOnly)
	}
	if prefix == "" {
		return errors.New("delete snapshots by prefix: the prefix is empty")
	}
	where, args := namesWithPrefix(prefix)
	if _, err := s.wdb.ExecContext(ctx, `DELETE FROM snapshots WHERE `+where, args...); err != nil {
		return fmt.Errorf("delete the snapshots named %s*: %w", prefix, withContext(ctx, err))
	}
	return nil
}

// LoadSnapshotsWithPrefix implements eventstore.SnapshotPrefixReader with
// one range read of the index on names.
func (s *Store) LoadSnapshotsWithPrefix(ctx context.Context, prefix string) ([]eventstore.Snapshot, error) {
	if prefix == "" {
		return nil, errors.New("load snapshots by prefix: the prefix is empty")
	}
	where, args := namesWithPrefix(prefix)
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, stream, version, hash, data FROM snapshots WHERE `+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, fmt.Errorf("load the snapshots named %s*: %w", prefix, withContext(ctx, err))
	}
	defer rows.Close()
	var out []eventstore.Snapshot
	for rows.Next() {
		var (
			snap eventstore.Snapshot
			hash []byte
		)
		if err := rows.Scan(&snap.Name, &snap.Stream, &snap.Version, &hash, &snap.Data); err != nil {
			return nil, fmt.Errorf("load the snapshots named %s*: %w", prefix, withContext(ctx, err))
		}
		copy(snap.Hash[:], hash)
		out = append(out, snap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load the snapshots named %s*: %w", prefix, withContext(ctx, err))
	}
	return out, nil
}

// namesWithPrefix is the condition on snapshots' names that keeps those
// starting with prefix, a range the index on names answers: from prefix
// (included) to the prefix with its last byte one higher (excluded); a last
// byte of 0xff carries into the byte before.
func namesWithPrefix(prefix string) (string, []any) {
	end := []byte(prefix)
	for len(end) > 0 && end[len(end)-1] == 0xff {
		end = end[:len(end)-1]
	}
	if len(end) == 0 {
		return `name >= ?`, []any{prefix}
	}
	end[len(end)-1]++
	return `name >= ? AND name < ?`, []any{prefix, string(end)}
}
