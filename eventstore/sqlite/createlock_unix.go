//go:build unix

package sqlite

import (
	"os"
	"syscall"
)

// lockForCreate holds an exclusive lock on the directory of a ledger about
// to be created, so that of several processes creating the same new ledger
// at once one creates it while the others wait, then open what it made.
// Without it, one could look at the new file between another's creating it
// and writing its schema, and find it empty beside a write-ahead log, which
// is what a log left over from a deleted ledger looks like. flock locks
// belong to the open directory, so goroutines of one process exclude each
// other too. The lock goes with the descriptor if the process dies.
func lockForCreate(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	fd := int(d.Fd())
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		d.Close()
	}, nil
}
