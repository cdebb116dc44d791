package architecture

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The size limits of ARCHITECTURE.md. A file over maxFileLines holds more than
// one concept; a function over maxFuncLines hides its steps. Test files and
// test functions are exempt: a table of cases reads best long, and t.Run
// already names its steps.
const (
	maxFileLines = 600
	maxFuncLines = 80
	// longMarker, in the comment directly above a function, lets it be long:
	// the sentence it starts says why (a flag list, a validation table).
	longMarker = "Long because"
)

// checkSizes walks the Go files under root as the go command sees them
// (skipping testdata and directories starting with "." or "_") and returns
// one line per file or function over its limit, sorted. Files under cmd/ are
// exempt from the file limit (a main package is wiring, read as a whole), not
// from the function limit.
func checkSizes(root string) ([]string, error) {
	var over []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		found, err := oversized(p, filepath.ToSlash(rel))
		over = append(over, found...)
		return err
	})
	sort.Strings(over)
	return over, err
}

// oversized reports one file's breaches of the limits.
func oversized(file, rel string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("error parsing %s: %w", rel, err)
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var over []string
	if lines := fset.File(f.Pos()).LineCount(); lines > maxFileLines && !strings.HasPrefix(rel, "cmd/") {
		over = append(over, fmt.Sprintf("%s: %d lines, over %d: split it by concept, one file each", rel, lines, maxFileLines))
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		if lines > maxFuncLines && !strings.Contains(fn.Doc.Text(), longMarker) {
			over = append(over, fmt.Sprintf("%s: func %s is %d lines, over %d: split it into named steps, or say why in a sentence starting %q in the comment above it",
				rel, funcName(fn), lines, maxFuncLines, longMarker))
		}
	}
	return over, nil
}

// funcName is how a failure names a function: Name or Recv.Name.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch t := t.(type) {
	case *ast.Ident:
		return t.Name + "." + fn.Name.Name
	case *ast.IndexExpr:
		return fmt.Sprint(t.X) + "." + fn.Name.Name
	case *ast.IndexListExpr:
		return fmt.Sprint(t.X) + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestSizeLimits holds every file and function of the module to
// ARCHITECTURE.md's size limits.
func TestSizeLimits(t *testing.T) {
	t.Parallel()
	over, err := checkSizes(findModule(t).Dir)
	require.NoError(t, err)
	// One line per breach, so a failure reads as a to-do list.
	for _, o := range over {
		t.Error(o)
	}
}
