package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestSequenceReservesHelpSteps: a step may not be named like an answer to
// HELP, which is sent past every guard but suppression.
func TestSequenceReservesHelpSteps(t *testing.T) {
	t.Parallel()
	seq := lead.Sequence{
		{Name: lead.StepInitial, Channel: lead.ChannelSMS},
		{Name: "help-tips", Channel: lead.ChannelSMS, Condition: lead.ConditionNoReply},
	}
	err := seq.Validate()
	require.ErrorContains(t, err, "sequence[1]")
	require.ErrorContains(t, err, "reserved for answers to HELP")
}
