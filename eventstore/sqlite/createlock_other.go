//go:build !unix

package sqlite

// lockForCreate is a no-op where flock is not available: concurrent
// creation of one new ledger may then refuse one of the creators, which
// can simply try again.
func lockForCreate(string) (func(), error) { return func() {}, nil }
