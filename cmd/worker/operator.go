package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The operator listener's timeouts. A scrape of a few hundred series and
// River UI's API answer in well under a second; the write timeout leaves
// room for a scrape that has to read the fleet's figures first (at most
// 5s, see metrics' stats cache), and an idle keep-alive from Prometheus
// (which scrapes every 15s) is kept just past one interval.
const (
	operatorReadTimeout  = 10 * time.Second
	operatorWriteTimeout = 30 * time.Second
	operatorIdleTimeout  = 20 * time.Second
)

// newMetrics builds the replica's metrics: every job kind, queue and CRM
// kind of the registry pre-created, the fleet-wide figures read through
// the store. It is built before the registry the jobs use, whose CRM
// clients record into it.
func newMetrics(cfg *config.Config, pool *pgxpool.Pool) *metrics.Metrics {
	queues := []string{jobs.QueueCRM, jobs.QueueCRMBackfill, jobs.QueueSMS, jobs.QueueEmail, jobs.QueueBookkeeping}
	return metrics.New(metrics.Opts{
		TenantLabels:          cfg.Metrics.TenantLabels,
		JobKinds:              jobs.MetricJobKinds(),
		CRMs:                  crmset.NewRegistry(crmset.Opts{}).Kinds(),
		Queues:                queues,
		DatabaseStats:         fleetStats{store: store.New(pool), queues: queues},
		DatabaseStatsInterval: cfg.Metrics.DatabaseStatsInterval,
	})
}

// fleetStats adapts store.FleetStats to metrics' DatabaseStats port (the
// store may not import metrics, nor metrics the store).
type fleetStats struct {
	store  *store.Store
	queues []string
}

func (f fleetStats) FleetStats(ctx context.Context) (metrics.Snapshot, error) {
	fs, err := f.store.FleetStats(ctx, f.queues)
	if err != nil {
		return metrics.Snapshot{}, err
	}
	s := metrics.Snapshot{
		PollsFailing:     map[string]int{},
		NeedingAttention: map[string]int{},
		PollScheduled:    !fs.LastPollSchedule.IsZero(),
		PollScheduleAge:  fs.ReadAt.Sub(fs.LastPollSchedule),
	}
	for _, q := range fs.Queues {
		s.Queues = append(s.Queues, metrics.QueueStats{Queue: q.Queue, Available: q.Available, Scheduled: q.Scheduled,
			Retryable: q.Retryable, OldestAvailableAge: q.OldestAvailableAge})
	}
	for _, o := range fs.Outbox {
		s.Outbox = append(s.Outbox, metrics.OutboxCount{Channel: o.Channel, Status: o.Status, Count: o.Messages})
	}
	for _, t := range fs.Tenants {
		if t.CredentialsRejected {
			s.NeedingAttention[metrics.AttentionCRMCredentials]++
		}
		if t.AmbiguousMessages {
			s.NeedingAttention[metrics.AttentionAmbiguousMessages]++
		}
		if t.CarrierFiltering {
			s.NeedingAttention[metrics.AttentionCarrierFiltering]++
		}
		if !t.Enabled {
			continue
		}
		s.PollLag = append(s.PollLag, metrics.PollLag{CRM: t.CRMKind, TenantID: t.TenantID.String(), Lag: t.PollLag})
		if t.PollFailing {
			s.PollsFailing[t.CRMKind]++
		}
	}
	return s, nil
}

// operatorListener is the second HTTP server: metrics, River UI, health.
type operatorListener struct {
	srv  *http.Server
	addr string
	errc chan error
}

// startOperator listens on operator.addr and serves handler there.
func startOperator(cfg *config.Config, handler http.Handler) (*operatorListener, error) {
	ln, err := net.Listen("tcp", cfg.Operator.Addr)
	if err != nil {
		return nil, fmt.Errorf("error listening on operator.addr %s: %w", cfg.Operator.Addr, err)
	}
	op := &operatorListener{
		srv: httpapi.NewServer(handler, httpapi.ServerOpts{
			ReadTimeout: operatorReadTimeout, WriteTimeout: operatorWriteTimeout, IdleTimeout: operatorIdleTimeout,
		}),
		addr: ln.Addr().String(),
		errc: make(chan error, 1),
	}
	go func() { op.errc <- op.srv.Serve(ln) }()
	return op, nil
}

// shutdown stops the listener after the jobs have stopped, so a scrape
// during the drain still sees the replica's last figures.
func (op *operatorListener) shutdown(logger *slog.Logger, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := op.srv.Shutdown(ctx); err != nil {
		logger.Warn("operator http server did not stop cleanly", slog.String("error", err.Error()))
	}
	if err := <-op.errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("operator http server failed", slog.String("error", err.Error()))
	}
}
