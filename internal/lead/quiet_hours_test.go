package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTimeOfDay(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]lead.TimeOfDay{"00:00": 0, "08:00": 480, "21:30": 1290, "23:59": 1439, "24:00": 1440} {
		got, err := lead.ParseTimeOfDay(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		require.Equal(t, in, got.String())
	}
	for _, bad := range []string{"", "8:00", "24:01", "25:00", "08:60", "8am", "08:00:00", " 08:00"} {
		_, err := lead.ParseTimeOfDay(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "HH:MM")
	}
}

func TestQuietHoursValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, lead.DefaultQuietHours.Validate())
	require.Equal(t, "08:00-21:00", lead.DefaultQuietHours.String())
	require.NoError(t, lead.QuietHours{Start: 0, End: 24 * 60}.Validate(), "all day")
	require.Error(t, lead.QuietHours{Start: 9 * 60, End: 9 * 60}.Validate(), "empty")
	require.Error(t, lead.QuietHours{Start: 22 * 60, End: 6 * 60}.Validate(), "across midnight")
	require.True(t, lead.QuietHours{}.IsZero())
}
