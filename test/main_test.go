// Package test runs the real consensus binary end to end, the way users and
// their scripts do: it builds ./cmd/consensus once, then drives it with
// os/exec against stores under t.TempDir() and checks exit statuses, stdout,
// stderr and what the store holds afterwards against the contract
// (/work/shared/spec/CONTRACT.md) and the seed facts (FACTS.md).
package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// bin is the consensus binary built by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the binary into a temporary directory, runs the tests
// and removes the directory again; it is separate from TestMain so the
// deferred removal runs before os.Exit.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "consensus-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create a directory for the binary: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "consensus")
	// go run keeps the executable it links in the build cache, keyed by
	// everything that went into it, and -exec hands it to cp instead of
	// running it: an unchanged binary is copied in under a second instead
	// of linked again (4 to 6 s on the loaded 2-core machine), and a
	// changed one is linked as go build would. The copy is this run's own,
	// so a later build, of this or another checkout, never changes the
	// binary under tests that are still running.
	build := exec.Command("go", "run", "-exec", "cp", "github.com/consensus-ledger/consensus/cmd/consensus", bin)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build the consensus binary: %v\n", err)
		return 1
	}
	return m.Run()
}

// sourcesRead makes readSources run once per test binary.
var sourcesRead sync.Once

// readSources reads every Go source and module file of the project. The
// binary is built by a child process, which go test's result cache cannot
// see; reading the sources while tests run (go test records only files
// opened inside m.Run) makes them inputs of this package's result, so a
// change to any of them runs the end-to-end tests again instead of reusing
// a result obtained with an older binary.
func readSources(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".go" || ext == ".sql" || d.Name() == "go.mod" || d.Name() == "go.sum") {
			_, err = os.ReadFile(path)
		}
		return err
	})
}
