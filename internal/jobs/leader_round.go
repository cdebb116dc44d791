package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// unfinishedStates are the states of a job still to run or running: a
// unique job in one of them keeps a second insert of the same key out.
func unfinishedStates() []rivertype.JobState {
	return []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}
}

// leaderRoundOpts are the insert options of the leader's periodic rounds
// (schedule_polls, sweep_outbox, prune_expired): the bookkeeping queue, at
// most one round queued or running (a slow round is not stacked up behind
// by the next ticks), and few attempts, since the next round comes soon.
// priority orders them when the queue is busy (1 first).
func leaderRoundOpts(priority int) river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueBookkeeping,
		Priority:    priority,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByState: unfinishedStates()},
	}
}
