package serve

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// TokenPollInterval is how often a server looks whether its token file
// changed. Polling one small file costs a stat a second, needs no
// file-system notification library, and also sees an editor that replaces
// the file by renaming a new one over it.
const TokenPollInterval = time.Second

// TokenFile is the token file of a running server: read at start, and read
// again when it changes or on Reload (the command line reloads on SIGHUP),
// so that a token is granted or revoked without a restart. A reload swaps
// the whole set at once, so a request is judged by the old set or the new
// one, never a mix; one that fails (the file is gone, unreadable, writable
// by others or invalid) keeps the last good set and logs why.
type TokenFile struct {
	path    string
	log     *slog.Logger
	current atomic.Pointer[Tokens]

	mu      sync.Mutex  // one reload at a time
	seen    fs.FileInfo // the file as last looked at, read or not
	failure string      // why the last reload failed, "" when it did not
}

// OpenTokenFile reads the token file at path. Its errors are the server's
// reasons not to start: the file cannot be read, is writable by group or
// others, or is not a valid token file. A file others may read is served
// with a warning in log, since its tokens are passwords.
func OpenTokenFile(path string, log *slog.Logger) (*TokenFile, error) {
	if log == nil {
		log = discardLogger()
	}
	t, info, err := readTokenFile(path)
	if err != nil {
		return nil, err
	}
	f := &TokenFile{path: path, log: log, seen: info}
	f.current.Store(t)
	if readableByOthers(info) {
		log.Warn(fmt.Sprintf("other users may read the token file (mode %04o); run chmod 600 %s", info.Mode().Perm(), path))
	}
	return f, nil
}

// Tokens is the set in force.
func (f *TokenFile) Tokens() *Tokens { return f.current.Load() }

// Reload reads the file again. On success the new set is in force from the
// next request on; on failure the set in force stays, and the error says
// why (it is also logged, once for each new reason).
func (f *TokenFile) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadLocked()
}

func (f *TokenFile) reloadLocked() error {
	t, info, err := readTokenFile(f.path)
	if info != nil {
		f.seen = info
	} else if st, statErr := os.Stat(f.path); statErr == nil {
		f.seen = st
	}
	if err != nil {
		if msg := err.Error(); msg != f.failure {
			f.failure = msg
			f.log.Error("token file not reloaded; the last good tokens stay in force",
				slog.String("file", f.path), slog.String("reason", msg))
		}
		return err
	}
	f.failure = ""
	f.current.Store(t)
	f.log.Info("token file reloaded", slog.String("file", f.path), slog.Int("tokens", t.Len()))
	return nil
}

// changed reports whether the file is not the one last looked at: another
// file (renamed over it), another size, time or mode, or gone (a reload
// then fails, and logs the reason once).
func (f *TokenFile) changed() bool {
	st, err := os.Stat(f.path)
	if err != nil || f.seen == nil {
		return true
	}
	return !os.SameFile(st, f.seen) || st.Size() != f.seen.Size() ||
		!st.ModTime().Equal(f.seen.ModTime()) || st.Mode() != f.seen.Mode()
}

// watch reloads the file when it changes, polled every interval, and on
// every value from signals, until ctx is done.
func (f *TokenFile) watch(ctx context.Context, every time.Duration, signals <-chan os.Signal) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			f.log.Info("reloading the token file on request", slog.String("file", f.path))
			_ = f.Reload()
		case <-tick.C:
			f.mu.Lock()
			if f.changed() {
				_ = f.reloadLocked()
			}
			f.mu.Unlock()
		}
	}
}

// ignoreReloads answers requests to reload of a server without a token
// file, so that they do not stop it either.
func (s *Server) ignoreReloads(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.Reload:
			s.log.Info("no token file to reload: this server has none")
		}
	}
}

// readTokenFile reads and checks a token file, returning what it found of
// the file even when it refuses it.
func readTokenFile(path string) (*Tokens, fs.FileInfo, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	defer file.Close()
	// The mode is that of the file opened, not of whatever the path names
	// a moment later.
	info, err := file.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the token file: %w", err)
	}
	if err := checkTokenFileMode(path, info); err != nil {
		return nil, info, err
	}
	t, err := ParseTokens(file)
	return t, info, err
}

// checkTokenFileMode refuses a token file that others than its owner may
// write, as ssh refuses such a private key: whoever can write it can grant
// themselves a write token. Windows has no such mode bits to check.
func checkTokenFileMode(path string, info fs.FileInfo) error {
	if runtime.GOOS == "windows" || info.Mode().Perm()&0o022 == 0 {
		return nil
	}
	return fmt.Errorf("the token file is writable by group or others (mode %04o); run chmod 600 %s", info.Mode().Perm(), path)
}

func readableByOthers(info fs.FileInfo) bool {
	return runtime.GOOS != "windows" && info.Mode().Perm()&0o044 != 0
}
