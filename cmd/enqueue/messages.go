package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

const (
	messagesSynopsis = "messages --tenant T [--status ambiguous,failed] [--limit 100]"
	resendSynopsis   = "resend --tenant T --message-id ID"
)

// messagesCmd lists a tenant's messages in some statuses: by default the
// ones that wait for an operator, ambiguous (the provider may have them)
// and failed (never sent, with the reason: the provider refused, or the
// outbox sweep found that no send job was left to send them). It always
// prints the count of every status too, so that nothing the default
// leaves out (a message stuck pending, say) is hidden.
type messagesCmd struct {
	tenant   string
	statuses []lead.MessageStatus
	limit    int
}

var messageStatuses = []lead.MessageStatus{lead.MessagePending, lead.MessageSending, lead.MessageSent, lead.MessageDelivered,
	lead.MessageFailed, lead.MessageSuppressed, lead.MessageAmbiguous, lead.MessageSkipped}

func (c *messagesCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("messages")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	status := fs.String("status", string(lead.MessageAmbiguous)+","+string(lead.MessageFailed), "message statuses, comma-separated")
	fs.IntVar(&c.limit, "limit", 100, "most messages to list per status")
	if err := parseFlags(fs, "messages", messagesSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("messages", messagesSynopsis, "tenant", c.tenant); err != nil {
		return err
	}
	names := make([]string, 0, len(messageStatuses))
	for _, s := range messageStatuses {
		names = append(names, string(s))
	}
	c.statuses = nil
	for _, s := range strings.Split(*status, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(names, s) {
			return usageErrorf(messagesSynopsis, "messages: --status %q: want one or more of %s, comma-separated", s, strings.Join(names, ", "))
		}
		if !slices.Contains(c.statuses, lead.MessageStatus(s)) {
			c.statuses = append(c.statuses, lead.MessageStatus(s))
		}
	}
	if c.limit < 1 || c.limit > 10000 {
		return usageErrorf(messagesSynopsis, "messages: --limit must be 1..10000, got %d", c.limit)
	}
	return nil
}

func (c *messagesCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	counts, err := d.store.CountMessages(ctx, tenant.ID)
	if err != nil {
		return err
	}
	var (
		msgs   []lead.Message
		listed []string
	)
	for _, status := range c.statuses {
		got, err := d.store.ListMessagesByStatus(ctx, tenant.ID, status, c.limit)
		if err != nil {
			return err
		}
		msgs = append(msgs, got...)
		listed = append(listed, fmt.Sprintf("%d %s", counts[status], status))
	}
	fmt.Fprintf(d.stdout, "%s message(s) for %s\n", strings.Join(listed, ", "), tenant.Name)
	var all []string
	for _, status := range messageStatuses {
		if counts[status] > 0 {
			all = append(all, fmt.Sprintf("%s %d", status, counts[status]))
		}
	}
	if len(all) == 0 {
		all = append(all, "none")
	}
	fmt.Fprintf(d.stdout, "all statuses: %s\n", strings.Join(all, ", "))
	tw := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tSTATUS\tLEAD\tSTEP\tCHANNEL\tTO\tATTEMPTS\tCLAIMED\tREASON")
	for _, m := range msgs {
		claimed := ""
		if !m.SendingAt.IsZero() {
			claimed = inTenantZone(tenant, m.SendingAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Status, m.LeadID, m.Step, m.Channel, m.To, m.Attempts, claimed, m.LastError)
	}
	return tw.Flush()
}

// resendCmd sends an ambiguous message again, on an operator's word that
// the customer did not get it (or that a second copy is acceptable). It is
// the only way an ambiguous message is ever sent again.
type resendCmd struct {
	tenant    string
	messageID string
}

func (c *resendCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("resend")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	fs.StringVar(&c.messageID, "message-id", "", "the message's id (see `enqueue messages`)")
	if err := parseFlags(fs, "resend", resendSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("resend", resendSynopsis, "tenant", c.tenant, "message-id", c.messageID); err != nil {
		return err
	}
	if _, err := uuid.Parse(c.messageID); err != nil {
		return usageErrorf(resendSynopsis, "resend: --message-id %q: not a message id (a UUID)", c.messageID)
	}
	return nil
}

func (c *resendCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findEnabledTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	id := uuid.MustParse(c.messageID)
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	st := store.New(tx)
	m, err := st.GetMessage(ctx, tenant.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--message-id %s: tenant %s has no such message", id, tenant.Name)
	}
	if err != nil {
		return err
	}
	if m.Status != lead.MessageAmbiguous {
		return fmt.Errorf("--message-id %s: message is %s; only ambiguous messages are resent", id, m.Status)
	}
	if err := st.SetMessageStatus(ctx, tenant.ID, id, lead.MessagePending, "an operator asked for a resend"); err != nil {
		return err
	}
	// The scheduled send is Resend 0; each resend is numbered by the
	// attempts so far, so it is a new job, and asking twice queues it once.
	resend := max(1, m.Attempts)
	var args river.JobArgs
	switch m.Channel {
	case lead.ChannelSMS:
		args = jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: m.LeadID, Step: m.Step, Resend: resend}
	case lead.ChannelEmail:
		args = jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: m.LeadID, Step: m.Step, Resend: resend}
	default:
		return fmt.Errorf("message %s has unknown channel %q", id, m.Channel)
	}
	res, err := d.river.InsertTx(ctx, tx, args, nil)
	if err != nil {
		return fmt.Errorf("error queueing resend: %w", err)
	}
	if res.UniqueSkippedAsDuplicate {
		return fmt.Errorf("a resend of message %s is already queued (job %d)", id, res.Job.ID)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "queued resend of %s %s to %s (job %d)\n", m.Channel, id, m.To, res.Job.ID)
	return err
}
