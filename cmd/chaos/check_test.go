package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDiscountOwed: two leads of one number owed the same nudge are two
// texts, not one sent twice (the long form's seed 1 reported that as a
// violation); a third copy at Twilio is one sent twice; a copy the outbox
// does not owe at all stays a repeat.
func TestDiscountOwed(t *testing.T) {
	t.Parallel()
	copies := map[string]int{"a": 2, "b": 3, "c": 2, "d": 1}
	discountOwed(copies, map[string]int{"a": 2, "b": 2, "d": 1})
	require.Equal(t, map[string]int{"a": 1, "b": 2, "c": 2, "d": 1}, copies)
}
