package jobs

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Backoff is capped exponential backoff with jitter: the n-th wait is Base
// doubled n-1 times, at most Cap, plus up to a quarter of that at random, so
// that jobs that failed together (a shop's leads when its CRM went down)
// do not all come back in the same second.
type Backoff struct {
	Base time.Duration
	Cap  time.Duration
}

// Delay is the n-th wait (n from 1).
func (b Backoff) Delay(n int) time.Duration {
	d := b.floor(n)
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}

// Max is the longest any wait of b can be: its cap with all the jitter.
func (b Backoff) Max() time.Duration { return b.Cap + b.Cap/4 }

// floor is the n-th wait without jitter.
func (b Backoff) floor(n int) time.Duration {
	d := b.Cap
	// Past 30 doublings any base exceeds any cap we use; shifting further
	// would overflow.
	if n >= 1 && n <= 30 {
		d = min(b.Base<<(n-1), b.Cap)
	}
	return d
}

// callBackoff is how a job that calls a CRM or a provider (poll_crm,
// ingest_lead, send_sms, send_email, notify_shop) retries after an error:
// 1s, 2s, 4s ... at most 30s (37.5s with jitter). Speed to lead decides the
// cap: with River's default (attempt^4 seconds) a Tekmetric lead whose
// ingest met four CRM 500s waited 4m16s for its fifth try, long after the
// CRM was back; with this one a job is tried again within a minute of its
// CRM or provider recovering.
func callBackoff() Backoff { return Backoff{Base: time.Second, Cap: 30 * time.Second} }

// callMaxAttempts is how many times a CRM or provider job runs before River
// discards it. A short cap needs many attempts to ride out an outage: 250
// keep a job trying for at least 2h03m of failures (31s for the first five
// waits, 30s for each after), where River's default schedule took 10
// attempts for about 4h. A job discarded earlier would lose its lead
// (ingest) or give up on its message.
const callMaxAttempts = 250

// bookkeepingBackoff is how jobs that touch only Postgres (schedule_polls,
// record_job_execution, record_email_events, record_sms_status,
// handle_inbound) retry: 1s doubling to 5 minutes, as a 429 that names no
// wait snoozes (rateLimitBackoff). Their only transient failure is Postgres
// restarting or a lock timing out, which the first quick tries outlast;
// one that keeps failing is a bug or bad data, for an operator in River UI
// rather than a retry every 30s.
func bookkeepingBackoff() Backoff { return Backoff{Base: time.Second, Cap: 5 * time.Minute} }

// bookkeepingMaxAttempts keeps a bookkeeping job trying for at least a day
// of failures. Most of these jobs carry what a customer said (a STOP, a
// reply, an unsubscribe): discarded, nothing would apply it again. With the
// 5-minute cap, the 25 attempts they had lasted only about 88 minutes (a
// review found a bad deploy of that length would drop every STOP in it);
// River's default schedule had made them last about 20 days.
const bookkeepingMaxAttempts = 300

// backoffFor is the retry schedule of a job kind.
func backoffFor(kind string) Backoff {
	switch kind {
	case PollCRMArgs{}.Kind(), IngestLeadArgs{}.Kind(), SendSMSArgs{}.Kind(), SendEmailArgs{}.Kind(), NotifyShopArgs{}.Kind(),
		BookAppointmentArgs{}.Kind(), ChangeBookingArgs{}.Kind():
		return callBackoff()
	}
	return bookkeepingBackoff()
}

// MaxCallRetryWait is the longest a CRM or provider job waits between two
// tries: after an outage ends, each such job runs again within this (plus
// River's scheduler interval, 5s, for waits longer than that).
func MaxCallRetryWait() time.Duration { return callBackoff().Max() }

// RetryPolicy is the client's river.ClientRetryPolicy: each job kind waits
// by its own Backoff (callBackoff or bookkeepingBackoff). River also asks
// it when its rescuer hands back a job whose replica died, so a rescued
// job's first retry comes within 1.25s.
//
// Waits count the job's errors, as River's default policy does, not its
// attempt: a snooze hands its attempt back, a rescue adds an error.
type RetryPolicy struct {
	now func() time.Time
}

// NewRetryPolicy returns the policy on clock now (nil: the wall clock).
func NewRetryPolicy(now func() time.Time) *RetryPolicy {
	if now == nil {
		now = time.Now
	}
	return &RetryPolicy{now: now}
}

// NextRetry is when job, which has just failed, runs again.
func (p *RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return p.now().Add(backoffFor(job.Kind).Delay(len(job.Errors) + 1))
}
