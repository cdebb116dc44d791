package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// telemetryLoad is what an operator's monitoring does to a fleet, so the
// telemetry runs measure the pipeline with it on: an OTLP/HTTP collector
// that takes every span the replicas export (sample ratio 1, the shipped
// default once an endpoint is set), and a Prometheus that scrapes every
// replica's /metrics more often than the usual 15 s.
type telemetryLoad struct {
	srv      *http.Server
	endpoint string

	exports, exportBytes atomic.Int64

	mu       sync.Mutex
	scrapes  int
	failures int
	bytes    int64
	stop     context.CancelFunc
	done     chan struct{}
}

// telemetryStats are a telemetry run's figures of the monitoring itself.
type telemetryStats struct {
	SpanExports     int64   `json:"otlp_exports"`
	SpanExportBytes int64   `json:"otlp_export_bytes"`
	Scrapes         int     `json:"scrapes"`
	ScrapeFailures  int     `json:"scrape_failures"`
	ScrapeBytes     int64   `json:"scrape_bytes"`
	ScrapeInterval  string  `json:"scrape_interval"`
	SampleRatio     float64 `json:"sample_ratio"`
}

// scrapeInterval is a third of Prometheus's usual 15 s: the bench's runs
// last tens of seconds, and a harsher scraper can only lower the figure.
const scrapeInterval = 5 * time.Second

// startTelemetrySink starts the OTLP/HTTP traces receiver on loopback. It
// answers each export 200 with an empty ExportTraceServiceResponse (no
// partial failure), as a collector does.
func startTelemetrySink() (*telemetryLoad, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &telemetryLoad{endpoint: "http://" + ln.Addr().String() + "/v1/traces", done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		t.exports.Add(1)
		t.exportBytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

// workerEnv turns tracing on for a replica, exporting to the sink.
func (t *telemetryLoad) workerEnv() []string {
	return []string{"LEADORCH_TRACING_OTLP_ENDPOINT=" + t.endpoint, "LEADORCH_TRACING_SAMPLE_RATIO=1"}
}

// scrape starts scraping every metrics URL each scrapeInterval until
// close.
func (t *telemetryLoad) scrape(urls []string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	client := &http.Client{Timeout: 10 * time.Second}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(scrapeInterval)
		defer tick.Stop()
		for {
			for _, u := range urls {
				t.scrapeOnce(ctx, client, u)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (t *telemetryLoad) scrapeOnce(ctx context.Context, client *http.Client, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := client.Do(req)
	var n int64
	if err == nil {
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil || resp.StatusCode != http.StatusOK {
		if ctx.Err() == nil {
			t.failures++
		}
		return
	}
	t.scrapes++
	t.bytes += n
}

// close stops the scraper and the sink and returns the figures.
func (t *telemetryLoad) close() telemetryStats {
	if t.stop != nil {
		t.stop()
		<-t.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	return telemetryStats{
		SpanExports: t.exports.Load(), SpanExportBytes: t.exportBytes.Load(),
		Scrapes: t.scrapes, ScrapeFailures: t.failures, ScrapeBytes: t.bytes,
		ScrapeInterval: scrapeInterval.String(), SampleRatio: 1,
	}
}

func (s telemetryStats) String() string {
	return fmt.Sprintf("%d span exports (%s), %d scrapes every %s (%s, %d failed)",
		s.SpanExports, mb(s.SpanExportBytes), s.Scrapes, s.ScrapeInterval, mb(s.ScrapeBytes), s.ScrapeFailures)
}
