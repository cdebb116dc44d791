package architecture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// importRule is one line of importRules; see there.
type importRule struct {
	pkgs       pkgSet
	only       []pkgSet
	never      []pkgSet
	importedBy []pkgSet
	why        string
	// mayBeEmpty marks a rule about packages that need not exist (shared
	// helpers appear when there is something to share); any other rule that
	// governs no package is a typo or a rename the table missed.
	mayBeEmpty bool
}

// pkgSet is a named set of module-relative package paths; the name is what a
// failure prints.
type pkgSet struct {
	name string
	has  func(rel string) bool
}

// pkg is the set of exactly one package.
func pkg(rel string) pkgSet {
	return pkgSet{rel, func(p string) bool { return p == rel }}
}

// tree is a package and every package below it.
func tree(rel string) pkgSet {
	return pkgSet{rel + "/...", func(p string) bool { return p == rel || strings.HasPrefix(p, rel+"/") }}
}

func sets(s ...pkgSet) []pkgSet { return s }

func anyHas(sets []pkgSet, rel string) bool {
	for _, s := range sets {
		if s.has(rel) {
			return true
		}
	}
	return false
}

// importGraph maps each of our packages (module-relative) to the packages of
// ours its non-test files import.
type importGraph map[string][]string

// checkImports returns one line per broken rule and import, sorted, naming
// the importing package, the imported one and the rule.
func checkImports(g importGraph, rules []importRule) []string {
	var broken []string
	for from, imports := range g {
		for _, to := range imports {
			for _, r := range rules {
				if msg, ok := r.breaks(from, to); ok {
					broken = append(broken, fmt.Sprintf("%s imports %s: %s", from, to, msg))
				}
			}
		}
	}
	sort.Strings(broken)
	return broken
}

// breaks says whether the import from → to breaks r, and how.
func (r importRule) breaks(from, to string) (string, bool) {
	if r.pkgs.has(from) {
		if r.only != nil && len(r.only) == 0 {
			return fmt.Sprintf("%s must import nothing of ours (%s)", r.pkgs.name, r.why), true
		}
		if r.only != nil && !anyHas(r.only, to) {
			return fmt.Sprintf("%s may import only %s (%s)", r.pkgs.name, names(r.only), r.why), true
		}
		for _, s := range r.never {
			if s.has(to) {
				return fmt.Sprintf("%s must not import %s (%s)", r.pkgs.name, s.name, r.why), true
			}
		}
	}
	if r.importedBy != nil && r.pkgs.has(to) && !anyHas(r.importedBy, from) {
		return fmt.Sprintf("only %s may import %s (%s)", names(r.importedBy), r.pkgs.name, r.why), true
	}
	return "", false
}

func names(sets []pkgSet) string {
	n := make([]string, len(sets))
	for i, s := range sets {
		n[i] = s.name
	}
	return strings.Join(n, ", ")
}

// unusedRules names the rules that govern no package of g.
func unusedRules(g importGraph, rules []importRule) []string {
	var unused []string
	for _, r := range rules {
		if r.mayBeEmpty {
			continue
		}
		found := false
		for p := range g {
			found = found || r.pkgs.has(p)
		}
		if !found {
			unused = append(unused, fmt.Sprintf("the rule on %s governs no package: was it renamed? (%s)", r.pkgs.name, r.why))
		}
	}
	return unused
}

// loadImports reads the module's import graph from `go list -json ./...`;
// Imports there lists the non-test files' imports only, which is what the
// rules are about.
func loadImports(t *testing.T, m module) importGraph {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = m.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())

	g := importGraph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "decoding go list")
		from, ok := m.rel(p.ImportPath)
		require.True(t, ok, "go list ./... listed %s outside the module", p.ImportPath)
		g[from] = []string{}
		for _, imp := range p.Imports {
			if to, ours := m.rel(imp); ours {
				g[from] = append(g[from], to)
			}
		}
	}
	return g
}

// rel turns one of our import paths into its module-relative form.
func (m module) rel(importPath string) (string, bool) {
	return strings.CutPrefix(importPath, m.Path+"/")
}

// TestImportRules holds the whole module to ARCHITECTURE.md's import rules.
func TestImportRules(t *testing.T) {
	t.Parallel()
	g := loadImports(t, findModule(t))
	require.Contains(t, g, "internal/lead", "go list found none of our packages")
	for _, unused := range unusedRules(g, importRules) {
		t.Error(unused)
	}
	// One line per broken import, so a failure reads as a to-do list.
	for _, broken := range checkImports(g, importRules) {
		t.Error(broken)
	}
}
