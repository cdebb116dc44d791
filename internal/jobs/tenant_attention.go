package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// maxAttentionBackoff is the longest a tenant whose CRM rejects its
// credentials waits between polls. Polls go on (each one cancelled) so
// that a key fixed in the CRM itself is noticed without an operator; an
// hour keeps that to 24 refused requests a day instead of one per poll
// interval (1,440 a day at the default minute).
const maxAttentionBackoff = time.Hour

// credentialsRefused flags the tenant as needing attention when err says
// its CRM rejected the credentials, backs its polls off, and logs it at
// warn when the flag goes up (not on every refused job). Any other err is
// left alone.
func (d *Deps) credentialsRefused(ctx context.Context, tenantID uuid.UUID, err error) error {
	if !errors.Is(err, crm.ErrUnauthorized) {
		return nil
	}
	mark, mErr := store.New(d.Pool).MarkTenantNeedsAttention(ctx, tenantID, err.Error(), d.now(), maxAttentionBackoff)
	if mErr != nil {
		return mErr
	}
	if mark.Began {
		d.Logger.WarnContext(ctx, "tenant needs attention: the CRM rejected its credentials; polls back off until they change "+
			"(enqueue tenant update --tenant T --secret-env VAR)",
			slog.String("tenant", mark.TenantName), slog.String("tenant_id", tenantID.String()),
			slog.String("reason", err.Error()), slog.Time("next_poll", mark.NextPollAt))
	}
	return nil
}

// The carrier-filtering rule. Carriers filter a sender's texts as spam
// (Twilio 30007) now and then; a few in a row is a pattern an operator
// must look at (content, volume, the shop's registration), and a single
// refusal of an unregistered sender (30034, 30032) means every text fails
// until the shop's 10DLC campaign or toll-free verification is fixed.
const (
	// carrierFilteredLimit of the tenant's latest store.OutcomeWindow
	// texts filtered or refused flags the tenant (any unregistered one
	// does at once).
	carrierFilteredLimit = 3
	// carrierClearStreak delivered texts in a row clear the flag: the
	// carrier took the shop's texts again, as a successful poll proves a
	// CRM key works again. No operator step is needed, nor possible to
	// forget; a shop still filtered is flagged again by its next refusals.
	carrierClearStreak = 5
)

// carrierMark is what carrierVerdict changed about the tenant's flag, for
// the log after the transaction commits.
type carrierMark struct {
	began, cleared bool
	tenantName     string
	reason         string
}

// carrierVerdict records the final outcome of one text and applies the
// rule above to the tenant's latest outcomes: a filtering verdict that
// brings them to the limit marks the tenant; a delivered text that ends a
// streak of carrierClearStreak clears it. Only a filtering verdict can
// mark, so a cleared tenant is not flagged again by the refusals that
// flagged it before, only by new ones.
func (d *Deps) carrierVerdict(ctx context.Context, st *store.Store, a RecordSMSStatusArgs, delivered bool) (carrierMark, error) {
	latest, err := st.RecordSMSOutcome(ctx, a.TenantID, store.SMSOutcome{ProviderID: a.MessageSID, Delivered: delivered,
		ErrorCode: a.ErrorCode, Verdict: string(a.Verdict), RecordedAt: d.now()})
	if err != nil {
		return carrierMark{}, err
	}
	switch {
	case a.Verdict.Filtering():
		reason, ok := carrierFilteringReason(latest)
		if !ok {
			return carrierMark{}, nil
		}
		name, began, err := st.MarkCarrierAttention(ctx, a.TenantID, reason, d.now())
		return carrierMark{began: began, tenantName: name, reason: reason}, err
	case delivered && deliveredStreak(latest) >= carrierClearStreak:
		cleared, err := st.ClearCarrierAttention(ctx, a.TenantID)
		return carrierMark{cleared: cleared}, err
	}
	return carrierMark{}, nil
}

// carrierFilteringReason applies the rule to latest (newest first) and
// says why, naming the counts and the provider's codes.
func carrierFilteringReason(latest []store.SMSOutcome) (reason string, ok bool) {
	var filtered, unregistered int
	var codes []int
	for _, o := range latest {
		switch messaging.Verdict(o.Verdict) {
		case messaging.VerdictFiltered:
			filtered++
		case messaging.VerdictUnregistered:
			unregistered++
		default:
			continue
		}
		if !slices.Contains(codes, o.ErrorCode) {
			codes = append(codes, o.ErrorCode)
		}
	}
	if unregistered == 0 && filtered+unregistered < carrierFilteredLimit {
		return "", false
	}
	slices.Sort(codes)
	return fmt.Sprintf("carriers refused %d of the last %d texts: %d filtered as spam, %d from a sender not registered "+
		"for this traffic (10DLC campaign or toll-free verification) (codes %s)",
		filtered+unregistered, len(latest), filtered, unregistered, joinInts(codes)), true
}

// deliveredStreak counts the delivered outcomes at the head of latest.
func deliveredStreak(latest []store.SMSOutcome) int {
	n := 0
	for _, o := range latest {
		if !o.Delivered {
			break
		}
		n++
	}
	return n
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// logCarrierMark logs a change of the tenant's carrier flag once, when it
// happens (not on every refused text).
func (d *Deps) logCarrierMark(ctx context.Context, tenantID uuid.UUID, m carrierMark) {
	switch {
	case m.began:
		d.Logger.WarnContext(ctx, "tenant needs attention: carriers are filtering its texts; check its 10DLC campaign or "+
			"toll-free verification and what it sends. The flag clears after "+strconv.Itoa(carrierClearStreak)+" delivered texts in a row",
			slog.String("tenant", m.tenantName), slog.String("tenant_id", tenantID.String()), slog.String("reason", m.reason))
	case m.cleared:
		d.Logger.InfoContext(ctx, "carriers deliver the tenant's texts again; its carrier flag is cleared",
			slog.String("tenant_id", tenantID.String()))
	}
}
