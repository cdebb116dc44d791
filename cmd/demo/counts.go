package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// counts is one line of the live display: what the database says was done
// and what the fake providers say they received.
func counts(ctx context.Context, pool *pgxpool.Pool, tenants []lead.Tenant, base string) string {
	var (
		leads, texts, emails, pending int
		perShop                       []string
	)
	for _, t := range tenants {
		st := store.New(pool)
		n, err := st.CountLeads(ctx, t.ID)
		if err != nil {
			return "error counting: " + err.Error()
		}
		leads += n
		perShop = append(perShop, fmt.Sprintf("%s %d", t.CRMKind, n))
		m, err := st.CountMessages(ctx, t.ID)
		if err != nil {
			return "error counting: " + err.Error()
		}
		pending += m[lead.MessagePending] + m[lead.MessageSending]
	}
	var delivered int
	_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE channel = 'sms'), count(*) FILTER (WHERE channel = 'email'),
		count(*) FILTER (WHERE status = 'delivered')
		FROM messages WHERE status IN ('sent', 'delivered')`).Scan(&texts, &emails, &delivered)
	var jobsRun int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM job_executions`).Scan(&jobsRun)
	received := "?"
	if resp, err := http.Get(base + "/_sandbox/stats"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		received = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s  leads ingested: %d (%s) | texts sent: %d | emails sent: %d (%d delivered) | in flight: %d | job runs recorded: %d | providers received: %s",
		time.Now().Format("15:04:05"), leads, strings.Join(perShop, ", "), texts, emails, delivered, pending, jobsRun, received)
}
