package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/tracing"
)

// traceMetadataKey is where a job's metadata keeps the W3C trace context
// of the code that inserted it: {"otel": {"traceparent": "00-..."}}.
// otelriver's own propagation would write top-level "traceparent" and
// "tracestate" keys; a key of our own cannot clash with them.
const traceMetadataKey = "otel"

// tracePlugins are the River plugins that trace jobs with tp: ours first,
// so that it wraps otelriver's and the work span otelriver starts has the
// inserting span as its parent. Nil tp (tracing off) installs neither, so
// an untraced fleet pays nothing per job.
//
// otelriver's EnableTracePropagation stays off: it only links the work
// span to the inserter, and the link would point at the parent we already
// set, stored a second time in every job's metadata. Its metrics go to a
// no-op meter: the fleet's metrics are Prometheus's (internal/metrics),
// and otelriver's per-attempt, per-tag series would be a cardinality risk.
func tracePlugins(tp trace.TracerProvider) []rivertype.Plugin {
	if tp == nil {
		return nil
	}
	return []rivertype.Plugin{
		&traceParent{},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider:              tp,
			MeterProvider:               metricnoop.NewMeterProvider(),
			EnableWorkSpanJobKindSuffix: true,
		}),
	}
}

// traceParent makes one trace of a lead's path. otelriver alone starts a
// new trace for every run, so a webhook, its ingest and the text it sends
// would be three traces; this middleware stores the inserting context's
// trace in the job's metadata at insert, and at work makes it the parent
// of the run (and so of every CRM or provider call and every job the run
// inserts). Job args stay ids only: the trace context is metadata.
//
// A job inserted outside any trace (a periodic poll, an operator's
// `enqueue`) stores nothing and its run starts a trace of its own.
type traceParent struct {
	river.PluginDefaults
}

// InsertMany implements rivertype.JobInsertMiddleware.
func (m *traceParent) InsertMany(ctx context.Context, manyParams []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if carrier := tracing.Carrier(ctx); carrier != nil {
		for _, params := range manyParams {
			meta, err := withTraceContext(params.Metadata, carrier)
			if err != nil {
				return nil, err
			}
			params.Metadata = meta
		}
	}
	return doInner(ctx)
}

// Work implements rivertype.WorkerMiddleware.
func (m *traceParent) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(jobTraceContext(ctx, job))
}

// jobTraceContext is ctx with the trace job was inserted in as its remote
// parent; ctx unchanged when job stored none.
func jobTraceContext(ctx context.Context, job *rivertype.JobRow) context.Context {
	var meta struct {
		Otel map[string]string `json:"otel"`
	}
	if len(job.Metadata) == 0 || json.Unmarshal(job.Metadata, &meta) != nil {
		return ctx
	}
	return tracing.FromCarrier(ctx, meta.Otel)
}

// withTraceContext is metadata (a JSON object, or empty) with carrier
// under traceMetadataKey, every other key kept as it was.
func withTraceContext(metadata []byte, carrier map[string]string) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	if len(metadata) > 0 {
		if err := json.Unmarshal(metadata, &fields); err != nil {
			return nil, fmt.Errorf("error reading job metadata to add its trace context: %w", err)
		}
	}
	value, err := json.Marshal(carrier)
	if err != nil {
		return nil, fmt.Errorf("error encoding job trace context: %w", err)
	}
	fields[traceMetadataKey] = value
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("error encoding job metadata with its trace context: %w", err)
	}
	return out, nil
}
