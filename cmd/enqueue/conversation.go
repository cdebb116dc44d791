package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

const conversationSynopsis = "conversation --tenant T (--lead L | --phone P) [--format text|json]"

// conversationCmd prints one customer's thread with a shop: everything we
// sent, everything that came back, and what followed from it, in time
// order, each at its time in the shop's zone. It reads only.
type conversationCmd struct {
	tenant string
	// leadID is --lead as a lead id; externalID is --lead as a CRM
	// reference, read by the tenant's CRM once the tenant is known.
	leadID     uuid.UUID
	externalID string
	lead       string
	phone      lead.PhoneNumber
	phoneArg   string
	format     string
}

func (c *conversationCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("conversation")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	fs.StringVar(&c.lead, "lead", "", "the lead's id, or its CRM record (order:123)")
	fs.StringVar(&c.phoneArg, "phone", "", "the customer's phone number: every lead of it, merged")
	fs.StringVar(&c.format, "format", "text", "text or json")
	if err := parseFlags(fs, "conversation", conversationSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("conversation", conversationSynopsis, "tenant", c.tenant); err != nil {
		return err
	}
	switch {
	case c.lead == "" && c.phoneArg == "":
		return usageErrorf(conversationSynopsis, "conversation: --lead or --phone is required")
	case c.lead != "" && c.phoneArg != "":
		return usageErrorf(conversationSynopsis, "conversation: give --lead or --phone, not both")
	case c.phoneArg != "":
		p, err := lead.ParseAnyPhoneNumber(c.phoneArg)
		if err != nil {
			return usageErrorf(conversationSynopsis, "conversation: --phone %q: %v", c.phoneArg, err)
		}
		c.phone = p
	default:
		if id, err := uuid.Parse(c.lead); err == nil {
			c.leadID = id
		} else if err := anyExternalID(c.lead); err == nil {
			c.externalID = c.lead
		} else {
			return usageErrorf(conversationSynopsis, "conversation: --lead %q: not a lead id (a UUID), nor a CRM record: %v", c.lead, err)
		}
	}
	if c.format != "text" && c.format != "json" {
		return usageErrorf(conversationSynopsis, "conversation: --format %q: want text or json", c.format)
	}
	return nil
}

func (c *conversationCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	opts := store.ThreadOpts{LeadID: c.leadID, Phone: c.phone}
	if c.externalID != "" {
		// The tenant's own CRM reads the record, as ingest does.
		ext, err := crmset.NewRegistry(crmset.Opts{}).ParseExternalID(tenant.CRMKind, c.externalID)
		if err != nil {
			return usageErrorf(conversationSynopsis, "conversation: --lead %q is not a %s record of tenant %s: %v", c.externalID, tenant.CRMKind, tenant.Name, err)
		}
		opts.CRM, opts.ExternalID = tenant.CRMKind, ext
	}
	th, err := d.store.Thread(ctx, tenant.ID, opts)
	if errors.Is(err, store.ErrNotFound) {
		if c.phone != "" {
			return fmt.Errorf("--phone %s: tenant %s has no lead, text or call of this number", c.phone, tenant.Name)
		}
		return fmt.Errorf("--lead %s: tenant %s has no such lead", c.lead, tenant.Name)
	}
	if err != nil {
		return err
	}
	loc, err := tenant.Location()
	if err != nil {
		loc = time.UTC
	}
	if c.format == "json" {
		return writeThreadJSON(d.stdout, th, loc)
	}
	return writeThreadText(d.stdout, tenant, th, loc, c.phone)
}

// threadEventJSON is one event of `conversation --format json`. The first
// eight fields are always there (empty strings when they do not apply,
// lead_id null for an event of no lead); the rest only when set.
type threadEventJSON struct {
	Time      string  `json:"time"`
	Kind      string  `json:"kind"`
	Channel   string  `json:"channel"`
	Direction string  `json:"direction"`
	Status    string  `json:"status"`
	Body      string  `json:"body"`
	Step      string  `json:"step"`
	LeadID    *string `json:"lead_id"`
	Reason    string  `json:"reason,omitempty"`
	From      string  `json:"from,omitempty"`
	To        string  `json:"to,omitempty"`
	Subject   string  `json:"subject,omitempty"`
	RawBody   string  `json:"raw_body,omitempty"`
	Ref       string  `json:"ref,omitempty"`
	AnswerID  int64   `json:"answer_id,omitempty"`
	Source    string  `json:"source,omitempty"`
	FoundVia  string  `json:"found_via,omitempty"`
	FoundAt   string  `json:"found_at,omitempty"`
	AllowedBy string  `json:"allowed_by,omitempty"`
	// ConsentSMS and ConsentEmail are, on a lead's event, where its
	// consent to each channel came from.
	ConsentSMS   string `json:"consent_sms,omitempty"`
	ConsentEmail string `json:"consent_email,omitempty"`
}

func writeThreadJSON(w io.Writer, th store.Thread, loc *time.Location) error {
	out := make([]threadEventJSON, len(th.Events))
	for i, e := range th.Events {
		j := threadEventJSON{
			Time: e.At.In(loc).Format(time.RFC3339), Kind: string(e.Kind), Channel: e.Channel, Direction: e.Direction,
			Status: e.Status, Body: e.Body, Step: e.Step, Reason: e.Reason, From: e.From, To: e.To, Subject: e.Subject,
			RawBody: e.RawBody, Ref: e.Ref, AnswerID: e.AnswerID, Source: e.Source, FoundVia: e.FoundVia,
			AllowedBy: e.AllowedBy,
		}
		if e.Kind == store.ThreadLead {
			if i := slices.IndexFunc(th.Leads, func(l lead.Lead) bool { return l.ID == e.LeadID }); i >= 0 {
				j.ConsentSMS, j.ConsentEmail = consentLine(th.Leads[i], lead.ChannelSMS), consentLine(th.Leads[i], lead.ChannelEmail)
			}
		}
		if e.LeadID != uuid.Nil {
			id := e.LeadID.String()
			j.LeadID = &id
		}
		if !e.FoundAt.IsZero() {
			j.FoundAt = e.FoundAt.In(loc).Format(time.RFC3339)
		}
		out[i] = j
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// threadTimeLayout is how the text thread shows a time: the shop's wall
// clock and its zone's abbreviation, so a CST and a CDT hour are told
// apart across a DST change.
const threadTimeLayout = "2006-01-02 15:04:05 MST"

func writeThreadText(w io.Writer, tenant lead.Tenant, th store.Thread, loc *time.Location, phone lead.PhoneNumber) error {
	var b strings.Builder
	who := "lead " + th.Leads[0].ID.String()
	if phone != "" {
		who = string(phone)
	}
	fmt.Fprintf(&b, "Conversation with %s at %s (times in %s)\n", who, tenant.Name, loc)
	if len(th.Leads) == 0 {
		b.WriteString("No lead has this number; what came from it:\n")
	}
	for _, l := range th.Leads {
		fmt.Fprintf(&b, "lead %s  %s %s %s, %s, %s  %s\n", shortID(l.ID), l.Source, escapeText(l.ExternalID),
			escapeText(strings.TrimSpace(l.FirstName+" "+l.LastName)), escapeText(string(l.Phone)), escapeText(string(l.Email)), l.Status)
		if l.ContactProblem != "" {
			// What is wrong with the lead's number or address: the CRM's
			// records, or a carrier's verdict (a landline).
			fmt.Fprintf(&b, "    contact problem: %s\n", escapeText(l.ContactProblem))
		}
		// Where its consent came from ("why did you text me").
		fmt.Fprintf(&b, "    consent: text %s; email %s\n", escapeText(consentLine(l, lead.ChannelSMS)), escapeText(consentLine(l, lead.ChannelEmail)))
		// The hours its texts keep where the customer is, and why there.
		fmt.Fprintf(&b, "    customer's clock: %s\n", escapeText(tenant.CustomerClock(lead.RecipientOf(l.CustomerRegion, l.Phone))))
	}
	for _, e := range th.Events {
		b.WriteString("\n")
		fmt.Fprintf(&b, "%s  %s\n", e.At.In(loc).Format(threadTimeLayout), threadHeadline(e, loc))
		writeThreadBody(&b, e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// threadHeadline says what an event was, on one line; every text that came
// from outside (a CRM, a customer, a provider) is escaped.
func threadHeadline(e store.ThreadEvent, loc *time.Location) string {
	x := escapeText
	var s string
	switch e.Kind {
	case store.ThreadLead:
		s = fmt.Sprintf("lead: %s %s created in the CRM, found via %s at %s; now %s", e.Source, x(e.Ref), e.FoundVia,
			e.FoundAt.In(loc).Format(threadTimeLayout), e.Status)
	case store.ThreadMessage:
		s = fmt.Sprintf("%s out, %s: step %s to %s", channelWord(e.Channel), e.Status, x(e.Step), x(e.To))
	case store.ThreadShopNotice:
		s = fmt.Sprintf("notice to the shop by %s, %s: step %s to %s", e.Channel, e.Status, x(e.Step), x(e.To))
	case store.ThreadShopAnswerText:
		s = fmt.Sprintf("shop's answer %d texted, %s: step %s to %s", e.AnswerID, e.Status, x(e.Step), x(e.To))
	case store.ThreadShopAnswer:
		s = fmt.Sprintf("shop's answer %s by %s in from %s, %s", e.Ref, e.Channel, x(e.From), e.Status)
	case store.ThreadAutoReply:
		s = fmt.Sprintf("%s auto-reply in from %s (recorded, stops nothing), %s", e.Channel, x(e.From), e.Status)
	case store.ThreadReply:
		s = fmt.Sprintf("%s reply in from %s, %s", channelWord(e.Channel), x(e.From), inboundStatus(e.Status))
	case store.ThreadStop, store.ThreadStart, store.ThreadHelp:
		s = fmt.Sprintf("%s %s in from %s, %s", channelWord(e.Channel), strings.ToUpper(string(e.Kind)), x(e.From), inboundStatus(e.Status))
	case store.ThreadSuppressed:
		s = fmt.Sprintf("suppressed %s %s since: %s", e.Channel, x(e.To), x(e.Reason))
	case store.ThreadBooked:
		s = "booked"
	case store.ThreadOptedOut:
		s = "opted out"
	case store.ThreadCall:
		s = fmt.Sprintf("call from %s to %s %s", x(e.From), x(e.To), e.Status)
		if e.Reason != "" {
			s += " (" + x(e.Reason) + ")"
		}
	default:
		s = fmt.Sprintf("%s %s %s, %s", e.Kind, e.Channel, e.Direction, e.Status)
	}
	if e.Reason != "" && (e.Kind == store.ThreadMessage || e.Kind == store.ThreadShopNotice || e.Kind == store.ThreadShopAnswerText) {
		s += ": " + x(e.Reason)
	}
	if e.AllowedBy != "" {
		s += "; allowed by " + x(e.AllowedBy)
	}
	if e.LeadID != uuid.Nil {
		s += "  [lead " + shortID(e.LeadID) + "]"
	}
	return s
}

// consentLine is a lead's consent to channel ch and its evidence:
// "yes (shopmonkey customer.phoneNumbers[0].optIn=true read ...)".
func consentLine(l lead.Lead, ch lead.Channel) string {
	yes := l.Consent.SMS
	if ch == lead.ChannelEmail {
		yes = l.Consent.Email
	}
	word := "no"
	if yes {
		word = "yes"
	}
	return word + " (" + l.ConsentEvidence.Of(ch).String() + ")"
}

// writeThreadBody writes what was said, indented under its headline, one
// line of the body per line, each escaped: a body cannot pass for an
// event of its own, nor move the terminal's cursor.
func writeThreadBody(b *strings.Builder, e store.ThreadEvent) {
	if e.Subject != "" {
		fmt.Fprintf(b, "    Subject: %s\n", escapeText(e.Subject))
	}
	switch e.Kind {
	case store.ThreadBooked, store.ThreadOptedOut, store.ThreadSuppressed, store.ThreadCall:
		return
	}
	if e.Body == "" {
		b.WriteString("    (empty)\n")
		return
	}
	for _, line := range strings.Split(e.Body, "\n") {
		fmt.Fprintf(b, "    %s\n", escapeText(line))
	}
	if e.RawBody != "" {
		b.WriteString("    (quoted history and signature stripped; --format json has raw_body, the email as it came)\n")
	}
}

func channelWord(ch string) string {
	switch ch {
	case string(lead.ChannelSMS):
		return "text"
	case string(lead.ChannelEmail):
		return "email"
	}
	return ch
}

func inboundStatus(s string) string {
	if s == "received" {
		return "received, not handled yet"
	}
	return s
}

// shortID is the first eight characters of a lead's id, which tell the
// leads of one customer apart in the text thread.
func shortID(id uuid.UUID) string { return id.String()[:8] }

// escapeText makes a line of text safe to print on a terminal: control
// characters (an escape sequence, a carriage return, a tab), invisible
// format characters (a right-to-left override, a zero-width space) and
// bytes that are not UTF-8 are written as Go escapes (\x1b, \r, \u202e,
// \xff); everything else, accented letters and emoji included, is kept.
func escapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case unicode.IsControl(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
