package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/devpg"
)

// demoDatabase is the demo's database: on its private cluster, or the
// one DATABASE_URL names.
type demoDatabase struct {
	// URL is the owner's: it migrates and the console reads as it.
	URL string
	// Fresh says the database was made empty for this run.
	Fresh   bool
	cluster *devpg.Cluster
}

// openDatabase starts the private cluster under dataDir and gives the run
// a fresh database on it, unless getenv has DATABASE_URL, which is used as
// it is (it may hold what matters to someone: nothing is dropped there).
//
// A fresh database each run makes a rerun behave like the first: a second
// run on the same .data kept the first one's leads, so its counts
// disagreed with what the sandbox received ("leads ingested: 480" beside
// "providers received: {"sms":7}").
func openDatabase(ctx context.Context, dataDir string, getenv func(string) string, say func(string, ...any)) (*demoDatabase, error) {
	if url := getenv("DATABASE_URL"); url != "" {
		return &demoDatabase{URL: url}, nil
	}
	dir := filepath.Join(dataDir, "pg")
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		say("creating a private Postgres under %s (initdb, once) ...", dir)
	}
	say("starting the private Postgres under %s ...", dir)
	cluster, err := devpg.Start(ctx, dir)
	if err != nil {
		return nil, err
	}
	if cluster.ClearedStale != 0 {
		say("stopped the private Postgres an earlier run left running (pid %d; its demo had gone without stopping it)", cluster.ClearedStale)
	}
	if err := cluster.RecreateDatabase(ctx, "leadorch"); err != nil {
		_ = cluster.Stop("fast")
		return nil, err
	}
	return &demoDatabase{URL: cluster.URL("leadorch"), Fresh: true, cluster: cluster}, nil
}

// close stops the private cluster, if the demo started one.
func (d *demoDatabase) close() {
	if d.cluster == nil {
		return
	}
	if err := d.cluster.Stop("fast"); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// redactURL masks the password of a connection URL.
func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		if scheme := strings.Index(u, "://"); scheme > 0 {
			if colon := strings.Index(u[scheme+3:at], ":"); colon >= 0 {
				return u[:scheme+3+colon] + ":****" + u[at:]
			}
		}
	}
	return u
}
