package jobs

import "time"

// What a crash costs. A replica killed without warning (SIGKILL, OOM, a
// lost node) cannot hand its running jobs back, so they stay running in
// river_job until River's rescuer, which runs on the elected leader,
// finds them older than RescueStuckJobsAfter and makes them retryable by
// the RetryPolicy. These are River v0.51's own intervals
// (internal/maintenance: JobRescuerIntervalDefault, JobSchedulerIntervalDefault);
// river.Config does not let us set them.
const (
	// RescuerInterval is how often River's rescuer looks for stuck jobs.
	RescuerInterval = 30 * time.Second
	// schedulerInterval is how often River's scheduler makes retryable jobs
	// whose time has come available; a retry due sooner than this is made
	// available at once.
	schedulerInterval = 5 * time.Second
)

// CrashResumeBound is the longest a job running on a replica that was
// killed waits before another replica runs it again, with rescueAfter
// River's RescueStuckJobsAfter: up to rescueAfter until it counts as stuck,
// a rescuer interval until the rescuer sees it, then its retry's wait and
// a fetch within a scheduler interval (a job killed on its first try waits
// at most 1.25s and is made available at once; one that had failed before
// waits its backoff on top, as after any error). A leader that dies with
// the replica does not add to it: a new leader is elected within about
// 20s (River's 15s leadership TTL and 5s election interval), long before
// the job counts as stuck, and its rescuer runs as it starts.
func CrashResumeBound(rescueAfter time.Duration) time.Duration {
	return rescueAfter + RescuerInterval + schedulerInterval
}
