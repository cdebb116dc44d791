package architecture

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// module is the repository under test: where it is on disk and the import
// path its packages start with.
type module struct {
	Dir  string
	Path string
}

// findModule asks the go command, from this package's directory, for the
// module around it, so the tests check the real tree wherever it is checked
// out.
func findModule(t *testing.T) module {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}\t{{.Path}}").Output()
	require.NoError(t, err, "go list -m")
	dir, path, ok := strings.Cut(strings.TrimSpace(string(out)), "\t")
	require.True(t, ok, "go list -m printed %q", out)
	return module{Dir: filepath.Clean(dir), Path: path}
}
