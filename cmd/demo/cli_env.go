package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// cliEnv is the environment that runs bin/enqueue against the demo: its
// database as the application role (the CLI runs under row-level
// security, as the workers do), the demo's credentials.keys (tenant add,
// update and rotate-keys seal secrets with them; the demo never printed
// them), and, for the README's curl examples, the sandbox's address. The
// keys are sandbox.DevCredentialsKeys, published and protecting nothing,
// so printing them shows no secret. LEADORCH_DATABASE_URL, not
// DATABASE_URL: it wins over a DATABASE_URL the shell may already have.
func cliEnv(appURL, sandboxBase string) []string {
	return []string{
		"LEADORCH_DATABASE_URL=" + appURL,
		"LEADORCH_CREDENTIALS_KEYS=" + sandbox.DevCredentialsKeys,
		"SANDBOX=" + sandboxBase,
	}
}

// exportLines is env as shell export lines, each value single-quoted (a
// database URL has ? and &).
func exportLines(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, "export "+k+"='"+strings.ReplaceAll(v, "'", `'\''`)+"'")
	}
	return out
}

// writeCLIEnv writes env to path as a file to source (`. .data/demo.env`),
// so the README's commands paste as they are, whatever port this run got.
func writeCLIEnv(path string, env []string) error {
	body := "# The environment of bin/enqueue against the running `make demo` (rewritten every run).\n" +
		strings.Join(exportLines(env), "\n") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("error writing %s: %w", path, err)
	}
	return nil
}
