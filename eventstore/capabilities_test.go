package eventstore_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capabilityAssertion is a type assertion to one of the optional
// capabilities, spelled from outside the package or inside it.
var capabilityAssertion = regexp.MustCompile(`\.\((eventstore\.)?(BatchAppender|EventReader|StreamLister|Finder|Snapshotter|Copier|AppendLimiter|Subscriber|ReadOnlyReporter|SnapshotBatcher|SnapshotPrefixDeleter|HeadReader|SnapshotPrefixReader|interface\s*\{\s*(ReadOnly|SaveSnapshots|DeleteSnapshotsWithPrefix|Head|LoadSnapshotsWithPrefix)\b)`)

// TestCapabilitiesDiscoveredInOneFile: no code of the module but
// capabilities.go asserts a store to a capability, so every caller asks the
// same helpers and a capability's rules live in one place.
func TestCapabilitiesDiscoveredInOneFile(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			path == filepath.Join(root, "eventstore", "capabilities.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range capabilityAssertion.FindAll(src, -1) {
			found = append(found, strings.TrimPrefix(path, root+"/")+": "+string(m))
		}
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, found, "capabilities are discovered only through eventstore's As helpers")
}
