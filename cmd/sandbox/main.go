// Command sandbox serves fakes of ShopMonkey, Twilio and SendGrid on
// loopback, seeded with demo shops and leads, for `make demo`, the
// benchmark and the fault harness. It never talks to the internet.
//
// Point a worker at it with the base URLs it prints; see what the providers
// received at GET /_sandbox/messages. With -worker it also plays the CRMs'
// webhooks and the customers' answers against the workers named: every
// lead it adds to a shop whose tenant is registered (POST
// /_sandbox/simulate/tenants) is announced by webhook, and the
// /_sandbox/simulate routes send texts and bounces.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address (loopback)")
	seed := fs.Int("leads", 5, "leads to seed per demo shop, created a minute ago")
	rate := fs.Float64("rate", 0, "new leads per second to add across the demo shops (0 = none)")
	var webhooks stringList
	fs.Var(&webhooks, "sendgrid-webhook", "URL to post signed SendGrid events to (repeatable: tried in turn, as a load balancer would)")
	var workers stringList
	fs.Var(&workers, "worker", "base URL of a worker (its http.public_url) to announce new leads to by webhook, and to send simulated texts and bounces to (repeatable: round-robin)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *seed < 0 || *seed > 100000 {
		return fmt.Errorf("-leads must be between 0 and 100000, got %d", *seed)
	}
	if *rate < 0 || *rate > 10000 || math.IsNaN(*rate) {
		return fmt.Errorf("-rate must be between 0 and 10000, got %v", *rate)
	}

	srv, err := sandbox.NewDemoServer(time.Now(), *seed)
	if err != nil {
		return err
	}
	if err := srv.Simulator.SetWorkers(workers...); err != nil {
		return fmt.Errorf("-worker: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("error listening on -addr %s: %w", *addr, err)
	}
	base := "http://" + ln.Addr().String()
	urls := sandbox.URLs(base)
	fmt.Fprintf(stdout, "sandbox listening on %s\n", base)
	fmt.Fprintf(stdout, "  LEADORCH_SHOPMONKEY_BASE_URL=%s\n  LEADORCH_TEKMETRIC_BASE_URL=%s\n  LEADORCH_TWILIO_BASE_URL=%s\n  LEADORCH_SENDGRID_BASE_URL=%s\n",
		urls.ShopMonkey, urls.Tekmetric, urls.Twilio, urls.SendGrid)
	fmt.Fprintf(stdout, "  LEADORCH_TWILIO_ACCOUNT_SID=%s\n  LEADORCH_TWILIO_AUTH_TOKEN=%s\n  LEADORCH_SENDGRID_API_KEY=%s\n",
		faketwilio.DefaultAccountSID, faketwilio.DefaultAuthToken, fakesendgrid.DefaultAPIKey)
	for _, s := range sandbox.DemoShops() {
		if s.ClientID != "" {
			fmt.Fprintf(stdout, "  %s shop %q: shop %s, client %s, secret %s (%d leads seeded)\n", s.CRM, s.Name, s.LocationID, s.ClientID, s.Secret, *seed)
			continue
		}
		fmt.Fprintf(stdout, "  %s shop %q: location %s, API key %s (%d leads seeded)\n", s.CRM, s.Name, s.LocationID, s.Secret, *seed)
	}

	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	if *rate > 0 {
		go addLeads(ctx, srv, *rate)
	}
	if len(webhooks) > 0 {
		fmt.Fprintf(stdout, "  posting SendGrid events to %v; LEADORCH_SENDGRID_WEBHOOK_PUBLIC_KEY=%s\n", []string(webhooks), fakesendgrid.WebhookPublicKey)
		go fakesendgrid.NewEventPoster(srv.SendGrid, webhooks...).Run(ctx, time.Second)
	}
	if len(workers) > 0 {
		fmt.Fprintf(stdout, "  announcing every lead added to a registered shop by webhook to %v, round-robin; "+
			"register tenants with POST %s/_sandbox/simulate/tenants\n", []string(workers), base)
	}
	// Always running: workers and tenants can also be given over HTTP.
	go announceLeads(ctx, srv.Simulator, stdout)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// addLeads adds new leads at rate per second, round-robin over the shops,
// as customers filling in web forms would.
func addLeads(ctx context.Context, srv *sandbox.Server, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	shops := sandbox.DemoShops()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = srv.AddDemoLead(shops[i%len(shops)], i%3 == 2, time.Time{})
		}
	}
}

// announceLeads announces new leads by webhook a few times a second, as
// the CRMs do when a record is created, and prints each announcement. A
// refused lead is tried again on the next round; failures are printed at
// most every few seconds, so a stopped worker does not flood the log.
func announceLeads(ctx context.Context, sim *sandbox.Simulator, stdout io.Writer) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastFailure time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		done, err := sim.AnnounceLeads(ctx)
		for _, a := range done {
			fmt.Fprintf(stdout, "announced %s to %s for tenant %s\n", a.Lead.ExternalID, a.Worker, a.TenantID)
		}
		if err != nil && ctx.Err() == nil && time.Since(lastFailure) > 5*time.Second {
			lastFailure = time.Now()
			fmt.Fprintf(stdout, "announcing leads: %v (retrying)\n", err)
		}
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return fmt.Sprint([]string(*l)) }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
