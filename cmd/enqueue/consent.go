package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

const consentSynopsis = "consent --tenant T --phone P"

// consentCmd answers a customer's "why did you text me" for a number:
// every lead of the number with where its consent came from (the CRM
// field, its value, when we read it), then every message we composed for
// them, each with its time and the rule it went by (or why it did not
// go). It reads only; it is `conversation --phone` cut down to what a shop
// (or its counsel) is asked.
type consentCmd struct {
	tenant   string
	phoneArg string
	phone    lead.PhoneNumber
}

func (c *consentCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("consent")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	fs.StringVar(&c.phoneArg, "phone", "", "the customer's phone number")
	if err := parseFlags(fs, "consent", consentSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("consent", consentSynopsis, "tenant", c.tenant, "phone", c.phoneArg); err != nil {
		return err
	}
	p, err := lead.ParseAnyPhoneNumber(c.phoneArg) // a number looked up, as conversation reads it
	if err != nil {
		return usageErrorf(consentSynopsis, "consent: --phone %q: %v", c.phoneArg, err)
	}
	c.phone = p
	return nil
}

func (c *consentCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	th, err := d.store.Thread(ctx, tenant.ID, store.ThreadOpts{Phone: c.phone})
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(th.Leads) == 0) {
		return fmt.Errorf("--phone %s: tenant %s has no lead of this number", c.phone, tenant.Name)
	}
	if err != nil {
		return err
	}
	loc, err := tenant.Location()
	if err != nil {
		loc = time.UTC
	}
	return writeConsent(d.stdout, tenant, th, loc, c.phone)
}

// writeConsent prints the leads with their evidence, then the messages
// that went to the customer (never the shop's own notices), oldest first.
func writeConsent(w io.Writer, tenant lead.Tenant, th store.Thread, loc *time.Location, phone lead.PhoneNumber) error {
	var b strings.Builder
	x := escapeText
	fmt.Fprintf(&b, "Why %s texted %s (times in %s)\n", x(tenant.Name), phone, loc)
	for _, l := range th.Leads {
		fmt.Fprintf(&b, "lead %s  %s %s %s, created in the CRM %s\n", shortID(l.ID), l.Source, x(l.ExternalID),
			x(strings.TrimSpace(l.FirstName+" "+l.LastName)), l.CRMCreatedAt.In(loc).Format(threadTimeLayout))
		fmt.Fprintf(&b, "    consent to texts: %s\n", x(consentLine(l, lead.ChannelSMS)))
		fmt.Fprintf(&b, "    consent to email: %s\n", x(consentLine(l, lead.ChannelEmail)))
		// The hours its texts keep where the customer is, and why there.
		fmt.Fprintf(&b, "    customer's clock: %s\n", x(tenant.CustomerClock(lead.RecipientOf(l.CustomerRegion, l.Phone))))
	}
	b.WriteString("\nMessages:\n")
	n := 0
	for _, e := range th.Events {
		if e.Kind != store.ThreadMessage && e.Kind != store.ThreadShopAnswerText {
			continue
		}
		n++
		fmt.Fprintf(&b, "%s  %s %s to %s, step %s  [lead %s]\n", e.At.In(loc).Format(threadTimeLayout),
			channelWord(e.Channel), e.Status, x(e.To), x(e.Step), shortID(e.LeadID))
		switch {
		case e.AllowedBy != "":
			fmt.Fprintf(&b, "    allowed by %s\n", x(e.AllowedBy))
		case e.Reason != "":
			fmt.Fprintf(&b, "    not sent: %s\n", x(e.Reason))
		default:
			b.WriteString("    no rule recorded (claimed before rules were kept, or not claimed yet)\n")
		}
	}
	if n == 0 {
		b.WriteString("    none\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
