package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgActivity is what Postgres backends of the measured database were doing,
// sampled from pg_stat_activity (pg_stat_statements is not installed).
// AvgBackends of an item is the average number of backends found in that
// state at a sample: a time-weighted concurrency.
type pgActivity struct {
	Samples     int              `json:"samples"`
	IntervalMS  int              `json:"interval_ms"`
	AvgActive   float64          `json:"avg_active_backends"`
	AvgIdleInTx float64          `json:"avg_idle_in_transaction_backends"`
	Top         []pgActivityItem `json:"top"`
}

type pgActivityItem struct {
	State       string  `json:"state"`
	Wait        string  `json:"wait"`
	Query       string  `json:"query"`
	AvgBackends float64 `json:"avg_backends"`
}

// pgSampler samples pg_stat_activity on its own connection until stopped.
type pgSampler struct {
	cancel context.CancelFunc
	done   chan pgActivity
}

const pgSampleInterval = 25 * time.Millisecond

func startPGSampler(ctx context.Context, adminURL, dbName string) *pgSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &pgSampler{cancel: cancel, done: make(chan pgActivity, 1)}
	go func() { s.done <- samplePG(ctx, adminURL, dbName) }()
	return s
}

func (s *pgSampler) stop() pgActivity {
	s.cancel()
	return <-s.done
}

func samplePG(ctx context.Context, adminURL, dbName string) pgActivity {
	res := pgActivity{IntervalMS: int(pgSampleInterval / time.Millisecond)}
	conn, err := pgx.Connect(context.WithoutCancel(ctx), adminURL)
	if err != nil {
		return res
	}
	defer conn.Close(context.Background())
	type key struct{ state, wait, query string }
	counts := map[key]int{}
	var active, idleTx int
	tick := time.NewTicker(pgSampleInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if res.Samples == 0 {
				return res
			}
			n := float64(res.Samples)
			res.AvgActive, res.AvgIdleInTx = float64(active)/n, float64(idleTx)/n
			for k, c := range counts {
				res.Top = append(res.Top, pgActivityItem{State: k.state, Wait: k.wait, Query: k.query, AvgBackends: float64(c) / n})
			}
			slices.SortFunc(res.Top, func(a, b pgActivityItem) int {
				switch {
				case a.AvgBackends > b.AvgBackends:
					return -1
				case a.AvgBackends < b.AvgBackends:
					return 1
				}
				return strings.Compare(a.Query, b.Query)
			})
			if len(res.Top) > 15 {
				res.Top = res.Top[:15]
			}
			return res
		case <-tick.C:
		}
		rows, err := conn.Query(ctx, `
			SELECT state, coalesce(wait_event_type || ':' || wait_event, ''), query
			FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
				AND state IS DISTINCT FROM 'idle'`, dbName)
		if err != nil {
			continue
		}
		res.Samples++
		for rows.Next() {
			var state, wait, query string
			if rows.Scan(&state, &wait, &query) != nil {
				continue
			}
			switch state {
			case "active":
				active++
			case "idle in transaction":
				idleTx++
				query = "after: " + query
			}
			counts[key{state, wait, fingerprint(query)}]++
		}
		rows.Close()
	}
}

var (
	spaces      = regexp.MustCompile(`\s+`)
	sqlcName    = regexp.MustCompile(`^(after: )?-- name: (\w+)`)
	riverSchema = regexp.MustCompile(`/\* TEMPLATE: schema \*/`)
)

// fingerprint names a query briefly: River's by their sqlc name, ours by
// their first words.
func fingerprint(q string) string {
	if m := sqlcName.FindStringSubmatch(q); m != nil {
		return m[1] + "river " + m[2]
	}
	q = riverSchema.ReplaceAllString(q, "")
	q = strings.TrimSpace(spaces.ReplaceAllString(q, " "))
	if len(q) > 90 {
		q = q[:90] + "..."
	}
	return q
}

func (a pgActivity) String() string {
	return fmt.Sprintf("%d samples every %dms: on average %.1f backends active, %.1f idle in transaction",
		a.Samples, a.IntervalMS, a.AvgActive, a.AvgIdleInTx)
}

// pgStatements is pg_stat_statements for one database over one run: the
// statements that took Postgres the most execution time.
type pgStatements struct {
	Calls       int64         `json:"calls"`
	ExecSeconds float64       `json:"exec_seconds"`
	Top         []pgStatement `json:"top"`
}

type pgStatement struct {
	Calls     int64   `json:"calls"`
	TotalMS   float64 `json:"total_ms"`
	MeanMS    float64 `json:"mean_ms"`
	Rows      int64   `json:"rows"`
	Query     string  `json:"query"`
	ShareExec float64 `json:"share_of_exec"`
}

// resetStatements clears pg_stat_statements (of every database) before a
// run.
func (d *database) resetStatements(ctx context.Context) {
	if !d.statements {
		return
	}
	_ = d.execIn(ctx, templateDB, "SELECT pg_stat_statements_reset()")
}

// statementsOf reads the top statements of database name since the last
// reset.
func (d *database) statementsOf(ctx context.Context, name string) *pgStatements {
	if !d.statements {
		return nil
	}
	conn, err := pgx.Connect(ctx, d.url(templateDB))
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	out := &pgStatements{}
	rows, err := conn.Query(ctx, `
		SELECT calls, total_exec_time, mean_exec_time, rows, query
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
		ORDER BY total_exec_time DESC`, name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	for rows.Next() {
		var s pgStatement
		if err := rows.Scan(&s.Calls, &s.TotalMS, &s.MeanMS, &s.Rows, &s.Query); err != nil {
			return nil
		}
		out.Calls += s.Calls
		out.ExecSeconds += s.TotalMS / 1000
		if len(out.Top) < 30 {
			s.Query = fingerprint(s.Query)
			out.Top = append(out.Top, s)
		}
	}
	for i := range out.Top {
		out.Top[i].ShareExec = out.Top[i].TotalMS / 1000 / out.ExecSeconds
	}
	return out
}

// kindTiming is how long one job kind waited in its queue (scheduled_at to
// attempted_at) and ran (attempted_at to finalized_at).
type kindTiming struct {
	Kind    string  `json:"kind"`
	Jobs    int     `json:"jobs"`
	WaitP50 float64 `json:"wait_p50_seconds"`
	WaitP99 float64 `json:"wait_p99_seconds"`
	RunP50  float64 `json:"run_p50_seconds"`
	RunP99  float64 `json:"run_p99_seconds"`
}

// jobTimings measures every finished job kind of the database.
func jobTimings(ctx context.Context, db interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]kindTiming, error) {
	rows, err := db.Query(ctx, `
		SELECT kind, count(*)::int,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - scheduled_at)),
			percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - scheduled_at)),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finalized_at - attempted_at)),
			percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finalized_at - attempted_at))
		FROM river_job WHERE finalized_at IS NOT NULL AND attempted_at IS NOT NULL
		GROUP BY kind ORDER BY kind`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kindTiming
	for rows.Next() {
		var k kindTiming
		if err := rows.Scan(&k.Kind, &k.Jobs, &k.WaitP50, &k.WaitP99, &k.RunP50, &k.RunP99); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func timingsString(ts []kindTiming) string {
	var parts []string
	for _, k := range ts {
		parts = append(parts, fmt.Sprintf("%s (%d): wait p50 %.3fs p99 %.3fs, run p50 %.3fs p99 %.3fs",
			k.Kind, k.Jobs, k.WaitP50, k.WaitP99, k.RunP50, k.RunP99))
	}
	return strings.Join(parts, "; ")
}
