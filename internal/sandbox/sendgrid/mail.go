package fakesendgrid

import (
	"encoding/json"
	"fmt"
	"strings"
)

// helpURL is the documentation link SendGrid puts in mail send
// validation errors.
const helpURL = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"

// mail is the part of the v3 mail send body the fake checks and
// keeps.
type mail struct {
	Personalizations []personalization `json:"personalizations"`
	From             *mailAddress      `json:"from"`
	ReplyTo          *mailAddress      `json:"reply_to"`
	Subject          string            `json:"subject"`
	Content          []mailContent     `json:"content"`
	TemplateID       string            `json:"template_id"`
	CustomArgs       map[string]string `json:"custom_args"`
	Categories       []string          `json:"categories"`
	Headers          map[string]string `json:"headers"`
	ASM              *asm              `json:"asm"`
	MailSettings     struct {
		SandboxMode struct {
			Enable bool `json:"enable"`
		} `json:"sandbox_mode"`
	} `json:"mail_settings"`
}

type personalization struct {
	To         []mailAddress     `json:"to"`
	CC         []mailAddress     `json:"cc"`
	BCC        []mailAddress     `json:"bcc"`
	From       *mailAddress      `json:"from"`
	Subject    string            `json:"subject"`
	CustomArgs map[string]string `json:"custom_args"`
	Headers    map[string]string `json:"headers"`
}

// asm is the request's unsubscribe group (Advanced Suppression Manager).
type asm struct {
	GroupID         int   `json:"group_id"`
	GroupsToDisplay []int `json:"groups_to_display"`
}

type mailAddress struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type mailContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// validate returns every problem SendGrid would report for m, with its
// field path and message, in SendGrid's order.
func (m mail) validate() []apiError {
	var errs []apiError
	add := func(field, msg, anchor string) {
		help, _ := json.Marshal(helpURL + anchor) // a string always marshals
		errs = append(errs, apiError{Field: &field, Message: msg, Help: help})
	}

	if m.From == nil || m.From.Email == "" {
		add("from.email", `The from object must be provided for every email send. It is an object that requires an email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}`, "#message.from")
	} else if !validEmail(m.From.Email) {
		add("from.email", "The from email does not contain a valid address.", "#message.from")
	}
	if m.ReplyTo != nil && !validEmail(m.ReplyTo.Email) {
		add("reply_to.email", "The reply_to email does not contain a valid address.", "#message.reply_to")
	}

	if len(m.Personalizations) == 0 {
		add("personalizations", "The personalizations field is required and must have at least one personalization.", "#-Personalizations-Errors")
	}
	everySubject := len(m.Personalizations) > 0
	for i, p := range m.Personalizations {
		if p.Subject == "" {
			everySubject = false
		}
		if len(p.To) == 0 {
			add(fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", "#message.personalizations.to")
		}
		for _, list := range []struct {
			kind  string
			addrs []mailAddress
		}{{"to", p.To}, {"cc", p.CC}, {"bcc", p.BCC}} {
			for j, a := range list.addrs {
				if !validEmail(a.Email) {
					add(fmt.Sprintf("personalizations.%d.%s.%d.email", i, list.kind, j), "Does not contain a valid address.", "#message.personalizations."+list.kind)
				}
			}
		}
	}

	if m.TemplateID == "" {
		if m.Subject == "" && !everySubject {
			add("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", "#message.subject")
		}
		if len(m.Content) == 0 {
			add("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.", "#message.content")
		}
	}
	if m.ASM != nil && m.ASM.GroupID <= 0 {
		// SendGrid requires group_id in an asm object (an integer id of
		// one of the account's groups); the wording here is the fake's.
		add("asm.group_id", "The asm.group_id must be the id of one of your unsubscribe groups.", "#message.asm.group_id")
	}
	for i, c := range m.Content {
		if c.Type == "" {
			add(fmt.Sprintf("content.%d.type", i), "The content type must be a string at least one character in length.", "#message.content.type")
		}
		if c.Value == "" {
			add(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length.", "#message.content.value")
		}
		if c.Type == "text/plain" && i > 0 {
			add("content", "The text/plain content type must be first, followed by text/html or other content types.", "#message.content")
		}
	}
	return errs
}

// validEmail is SendGrid's syntax check: one @, a local part of 1
// to 64 characters, a dotted domain, no spaces or angle brackets.
func validEmail(addr string) bool {
	if len(addr) > 320 || strings.ContainsAny(addr, " \t\r\n<>(),;:\"[]\\") {
		return false
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if len(domain) > 255 || !strings.Contains(domain, ".") {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return false
		}
	}
	return true
}
