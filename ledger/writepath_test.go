package ledger

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeAppends are the eventstore methods that write records: Store.Append,
// BatchAppender.AppendBatches and Copier.AppendCopies.
var storeAppends = map[string]bool{"Append": true, "AppendBatches": true, "AppendCopies": true}

// TestOnlyTheLedgerAppends: every write goes through the ledger, which
// judges what it appends. Outside package ledger, only the event store's own
// packages (its backends, the copy between stores, the conformance suite)
// call a store's append methods; tests are free to. The scan is of the
// syntax, by method name, so a new caller fails here whatever it calls its
// store.
func TestOnlyTheLedgerAppends(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	var calls []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "eventstore" || rel == "ledger" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && storeAppends[sel.Sel.Name] {
					pos := fset.Position(call.Pos())
					rel, _ := filepath.Rel(root, pos.Filename)
					calls = append(calls, rel+": "+sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, calls, "code outside packages ledger and eventstore appends to a store; write through the ledger instead")
}

// TestLedgerExportsNoAppend: the ledger's exported API appends only what
// its own judge decided (Write, WriteInstrument, WriteEncoded of a Plan
// that Judge made); no exported method takes events to append as they are.
func TestLedgerExportsNoAppend(t *testing.T) {
	typ := reflect.TypeOf(&Ledger{})
	var appends []string
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; strings.HasPrefix(name, "Append") || strings.Contains(name, "Decided") {
			appends = append(appends, name)
		}
	}
	assert.Empty(t, appends)
}
