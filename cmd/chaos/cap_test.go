package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMostInWindow: the most texts in any window of the cap's length, a
// text exactly one window after another in a new window (as the cap
// counts: a text claimed a full window ago has left it).
func TestMostInWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	at := func(h ...float64) []time.Time {
		out := make([]time.Time, 0, len(h))
		for _, x := range h {
			out = append(out, t0.Add(time.Duration(x*float64(time.Hour))))
		}
		return out
	}
	require.Equal(t, 0, mostInWindow(nil, 24*time.Hour))
	require.Equal(t, 3, mostInWindow(at(0, 1, 2), 24*time.Hour))
	require.Equal(t, 3, mostInWindow(at(0, 10, 23, 24, 34), 24*time.Hour), "0 leaves when 24 comes")
	require.Equal(t, 4, mostInWindow(at(30, 0, 10, 23, 23.5), 24*time.Hour), "unsorted input")
}
