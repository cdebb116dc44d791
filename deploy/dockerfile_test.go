package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// dockerStage is one FROM of a Dockerfile and the instructions under it.
type dockerStage struct {
	From         string
	Name         string
	Instructions []dockerInstruction
}

// dockerInstruction is one instruction with its continuation lines joined.
type dockerInstruction struct {
	Op   string
	Args string
}

// parseDockerfile reads stages and instructions, enough to check them: the
// build itself cannot run here (no registry to pull the bases from).
func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var stages []dockerStage
	var line string
	for _, l := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(l)
		if line == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			line += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		line += trimmed
		op, args, _ := strings.Cut(line, " ")
		line = ""
		in := dockerInstruction{Op: strings.ToUpper(op), Args: strings.TrimSpace(args)}
		if in.Op == "FROM" {
			fields := strings.Fields(in.Args)
			s := dockerStage{}
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					s.Name = fields[i+1]
					i++
				default:
					s.From = fields[i]
				}
			}
			stages = append(stages, s)
			continue
		}
		require.NotEmpty(t, stages, "%s: %s before the first FROM", path, in.Op)
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	return stages
}

func (s dockerStage) all(op string) []string {
	var out []string
	for _, in := range s.Instructions {
		if in.Op == op {
			out = append(out, in.Args)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()

	stages := parseDockerfile(t, "Dockerfile")
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: the toolchain stays out of the image")
	build, final := stages[0], stages[len(stages)-1]
	require.True(t, strings.HasPrefix(build.From, "golang:1.26"), "the builder is Go 1.26 as go.mod says, got %s", build.From)
	run := strings.Join(build.all("RUN"), "\n")
	require.Contains(t, run, "--mount=type=cache,target=/go/pkg/mod", "the module cache is a cache mount")
	require.Contains(t, run, "CGO_ENABLED=0", "a static binary: the final image has no libc")
	require.Contains(t, run, "-trimpath")
	require.Contains(t, run, `-ldflags "-s -w"`)
	require.Contains(t, run, "./cmd/worker")
	require.Contains(t, run, "./cmd/enqueue")

	require.True(t, final.From == "scratch" || strings.HasPrefix(final.From, "gcr.io/distroless/static"),
		"the final base has no shell, got %s", final.From)
	require.Empty(t, final.all("RUN"), "nothing runs in the final stage: it has no shell")
	copies := strings.Join(final.all("COPY"), "\n")
	for _, want := range []string{"/out/worker /worker", "/out/enqueue /enqueue", "config.yaml /config.yaml"} {
		require.Contains(t, copies, want)
	}
	users := final.all("USER")
	require.Len(t, users, 1)
	uid, err := strconv.Atoi(strings.Split(users[0], ":")[0])
	require.NoError(t, err, "USER is numeric, so Kubernetes' runAsNonRoot can verify it")
	require.NotZero(t, uid, "USER is not root")

	entrypoints := final.all("ENTRYPOINT")
	require.Len(t, entrypoints, 1)
	var entrypoint []string
	require.NoError(t, json.Unmarshal([]byte(entrypoints[0]), &entrypoint), "ENTRYPOINT in exec form: no shell to wrap it, and signals reach the worker")
	require.Equal(t, []string{"/worker"}, entrypoint)
	var cmd []string
	require.NoError(t, json.Unmarshal([]byte(strings.Join(final.all("CMD"), "")), &cmd))
	require.Equal(t, []string{"run"}, cmd)
	require.Equal(t, []string{"8080 9464"}, final.all("EXPOSE"))
	require.Equal(t, []string{"/"}, final.all("WORKDIR"), "the worker finds /config.yaml in its working directory")
}

// TestDockerignoreKeepsTheBuild checks the build context allowlist keeps
// what `go build ./cmd/worker ./cmd/enqueue` reads.
func TestDockerignoreKeepsTheBuild(t *testing.T) {
	t.Parallel()

	raw, err := os.ReadFile("../.dockerignore")
	require.NoError(t, err)
	lines := map[string]bool{}
	for _, l := range strings.Split(string(raw), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	require.True(t, lines["*"], "an allowlist: everything out, then what the build needs back in")
	for _, keep := range []string{"!go.mod", "!go.sum", "!config.yaml", "!cmd/", "!internal/", "!db/"} {
		require.True(t, lines[keep], ".dockerignore lets %s into the build", strings.TrimPrefix(keep, "!"))
	}
	// Every package of ours the two binaries import must be inside the
	// context, or the image build fails where this test could have.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "../cmd/worker", "../cmd/enqueue").Output()
	require.NoError(t, err, "go list the binaries' packages")
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dirs := strings.Fields(string(out))
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		rel, err := filepath.Rel(root, dir)
		require.NoError(t, err)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		require.True(t, lines["!"+top+"/"], ".dockerignore keeps %s (package dir %s) out of the build", top, rel)
	}
}
