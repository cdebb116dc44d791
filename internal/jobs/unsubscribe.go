package jobs

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// unsubscribeSource is how a suppression by the unsubscribe link is
// recorded (suppressions.source), beside "sendgrid" and "inbound".
const unsubscribeSource = "unsubscribe_link"

// UnsubscribeDesk is what the unsubscribe page (/unsubscribe/{token})
// asks. A token names one email (tenant, lead, step) and its MAC covers
// the address the email went to (credentials.UnsubscribeToken): the desk
// reads the tenant and the outbox row the token names, under that
// tenant's row security, and checks the MAC against the row's address.
// Nothing else is looked up before the token checks, and every failure is
// one error, lead.ErrUnsubscribeLinkUnknown.
type UnsubscribeDesk struct {
	deps *Deps
}

// NewUnsubscribeDesk returns the desk of the worker's deps.
func NewUnsubscribeDesk(d *Deps) *UnsubscribeDesk {
	return &UnsubscribeDesk{deps: d}
}

// Look is what the page shows a person who opened the link: the shop,
// the masked address and whether it is unsubscribed already. It changes
// nothing (a mail scanner fetches links; only the POST unsubscribes).
func (k *UnsubscribeDesk) Look(ctx context.Context, token string) (lead.Unsubscription, error) {
	st := store.New(k.deps.Pool)
	t, m, err := k.resolve(ctx, st, token)
	if err != nil {
		return lead.Unsubscription{}, err
	}
	done, err := st.IsSuppressed(ctx, t.ID, lead.ChannelEmail, m.To)
	if err != nil {
		return lead.Unsubscription{}, err
	}
	return lead.Unsubscription{Shop: t.Name, Address: lead.MaskEmail(m.To), Done: done}, nil
}

// Unsubscribe suppresses the address the token's email went to, for the
// token's tenant, in one transaction: after the claims of that address
// under way have committed (store.LockCustomer), so a send that starts
// after it reads the suppression and one already claimed is the last.
// Asking again changes nothing (the suppression is kept once, with its
// first reason). A disabled shop unsubscribes too: a customer's opt-out
// must never wait for the shop.
func (k *UnsubscribeDesk) Unsubscribe(ctx context.Context, token string) (lead.Unsubscription, error) {
	var out lead.Unsubscription
	err := k.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		t, m, err := k.resolve(ctx, st, token)
		if err != nil {
			return err
		}
		if err := store.LockCustomer(ctx, tx, t.ID, m.To, []uuid.UUID{m.LeadID}); err != nil {
			return err
		}
		reason := "the customer unsubscribed with the link in email " + m.Step
		if err := st.Suppress(ctx, t.ID, lead.ChannelEmail, m.To, reason, unsubscribeSource); err != nil {
			return err
		}
		out = lead.Unsubscription{Shop: t.Name, Address: lead.MaskEmail(m.To), Done: true}
		return nil
	})
	return out, err
}

// resolve finds the token's tenant and email, or
// lead.ErrUnsubscribeLinkUnknown: a token that does not read, a tenant or
// outbox row that is not there, a MAC that does not check for the row's
// address (forged, altered, or signed by a key no longer configured).
func (k *UnsubscribeDesk) resolve(ctx context.Context, st *store.Store, token string) (lead.Tenant, lead.Message, error) {
	ref, err := credentials.ReadUnsubscribeToken(token)
	if err != nil {
		return lead.Tenant{}, lead.Message{}, lead.ErrUnsubscribeLinkUnknown
	}
	t, err := st.GetTenant(ctx, ref.TenantID)
	if err != nil {
		return lead.Tenant{}, lead.Message{}, unknownIfNotFound(err)
	}
	m, err := st.FindMessage(ctx, t.ID, ref.LeadID, ref.Step, lead.ChannelEmail)
	if err != nil {
		return lead.Tenant{}, lead.Message{}, unknownIfNotFound(err)
	}
	if err := k.deps.Credentials.CheckUnsubscribeToken(ref, m.To); err != nil {
		return lead.Tenant{}, lead.Message{}, lead.ErrUnsubscribeLinkUnknown
	}
	return t, m, nil
}

// unknownIfNotFound is a lookup's not-found as an unknown link; any other
// error stays what it is (the page answers 503, and the inbox retries).
func unknownIfNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return lead.ErrUnsubscribeLinkUnknown
	}
	return err
}
