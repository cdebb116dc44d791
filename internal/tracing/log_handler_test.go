package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/leadorch/lead-orchestrator/internal/tracing"
)

// TestLogHandler: a line logged inside a span carries its trace and span
// ids at the top level, through WithAttrs too; a line logged without one
// carries neither.
func TestLogHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := tracing.New(ctx, tracing.Opts{Exporter: tracetest.NewInMemoryExporter(), SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	var buf bytes.Buffer
	logger := slog.New(tracing.NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("room", "jobs")

	spanCtx, span := p.Tracer("test").Start(ctx, "run")
	logger.InfoContext(spanCtx, "inside")
	logger.DebugContext(spanCtx, "below the level")
	span.End()
	logger.InfoContext(ctx, "outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	var inside, outside map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &inside))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &outside))
	require.Equal(t, span.SpanContext().TraceID().String(), inside[tracing.LogTraceID])
	require.Equal(t, span.SpanContext().SpanID().String(), inside[tracing.LogSpanID])
	require.Equal(t, "jobs", inside["room"])
	require.NotContains(t, outside, tracing.LogTraceID)
	require.NotContains(t, outside, tracing.LogSpanID)
}
