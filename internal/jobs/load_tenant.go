package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantUse says whether a job runs for a tenant an operator disabled.
type tenantUse int

const (
	// enabledOnly is the shop's automation (polls, ingests, sends): a
	// disabled shop gets none of it, and the job is cancelled.
	enabledOnly tenantUse = iota
	// evenDisabled is what a customer said (a STOP, a START, a reply) and
	// the shop's notice of it: disabling a shop must not lose a customer's
	// opt-out, or it would be texted again when the shop is enabled.
	evenDisabled
)

// loadTenant is every job's prologue: the tenant the job is for, or what
// the job does without it. A tenant that is gone cancels the job (it
// cannot come back); a disabled one cancels an enabledOnly job; any other
// error retries.
func loadTenant(ctx context.Context, st *store.Store, tenantID uuid.UUID, use tenantUse) (lead.Tenant, error) {
	tenant, err := st.GetTenant(ctx, tenantID)
	if err != nil {
		return lead.Tenant{}, cancelIfNotFound(err)
	}
	if use == enabledOnly && !tenant.Enabled {
		return lead.Tenant{}, river.JobCancel(fmt.Errorf("tenant %s is disabled", tenant.Name))
	}
	return tenant, nil
}

// cancelIfNotFound cancels a job whose tenant (or lead, or stored row) is
// gone; other errors retry.
func cancelIfNotFound(err error) error {
	if isNotFound(err) {
		return river.JobCancel(err)
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
