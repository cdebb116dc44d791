package lead_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

const day = 24 * time.Hour

func TestDefaultSequence(t *testing.T) {
	t.Parallel()

	seq := lead.DefaultSequence()
	require.NoError(t, seq.Validate())

	type shape struct {
		name      string
		channel   lead.Channel
		delay     time.Duration
		condition lead.StepCondition
	}
	var got []shape
	for _, st := range seq {
		got = append(got, shape{st.Name, st.Channel, st.Delay, st.Condition})
	}
	require.Equal(t, []shape{
		{"initial", lead.ChannelSMS, 0, lead.ConditionAlways},
		{"initial", lead.ChannelEmail, 0, lead.ConditionAlways},
		{"day1", lead.ChannelSMS, day, lead.ConditionNoReply},
		{"day3", lead.ChannelEmail, 3 * day, lead.ConditionNoReply},
		{"day7", lead.ChannelSMS, 7 * day, lead.ConditionNoReply},
	}, got)

	t.Run("InitialStepsUseTheFirstMessageTemplates", func(t *testing.T) {
		t.Parallel()

		first := lead.Templates{SMS: "first sms", EmailSubject: "first subject", EmailText: "first text"}
		for _, st := range seq[:2] {
			require.True(t, st.IsInitial())
			require.Equal(t, first, st.Wording(first))
		}
	})

	full := lead.MessageData{
		Lead:    lead.Lead{FirstName: "Ann", Summary: "Brakes squeal"},
		Vehicle: lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic"},
		Shop:    lead.Shop{Name: "Maple Auto"},
	}
	// A lead with nothing but a shop must still read as a sentence.
	bare := lead.MessageData{Shop: lead.Shop{Name: "Maple Auto"}}
	tests := []struct {
		name, template string
		data           lead.MessageData
		want           string
	}{
		{"Day1", seq[2].Template.SMS, full, "Hi Ann, Maple Auto here again about your 2019 Honda Civic. Still need a hand? Reply to this text and we'll get you scheduled. Reply STOP to opt out."},
		{"Day1Bare", seq[2].Template.SMS, bare, "Hi, Maple Auto here again. Still need a hand? Reply to this text and we'll get you scheduled. Reply STOP to opt out."},
		{"Day3Subject", seq[3].Template.EmailSubject, full, "Following up on your request to Maple Auto"},
		{"Day3Text", seq[3].Template.EmailText, full, "Hi Ann,\n\nWe wanted to follow up on your request about your 2019 Honda Civic. You wrote:\n\nBrakes squeal\n\n" +
			"We would be glad to help. Reply to this email with a time that suits you and we will get you booked in.\n\nMaple Auto"},
		{"Day3TextBare", seq[3].Template.EmailText, bare, "Hi,\n\nWe wanted to follow up on your request.\n\n" +
			"We would be glad to help. Reply to this email with a time that suits you and we will get you booked in.\n\nMaple Auto"},
		{"Day7", seq[4].Template.SMS, full, "Hi Ann, last check-in from Maple Auto about your 2019 Honda Civic. Still want help? Just reply and we'll find you a time. Reply STOP to opt out."},
		{"Day7Bare", seq[4].Template.SMS, bare, "Hi, last check-in from Maple Auto. Still want help? Just reply and we'll find you a time. Reply STOP to opt out."},
		{"FollowUpSMS", lead.DefaultFollowUpTemplates().SMS, full, "Hi Ann, Maple Auto following up about your 2019 Honda Civic. Reply to this text if you'd like to book. Reply STOP to opt out."},
		{"FollowUpSMSBare", lead.DefaultFollowUpTemplates().SMS, bare, "Hi, Maple Auto following up. Reply to this text if you'd like to book. Reply STOP to opt out."},
		{"FollowUpSubject", lead.DefaultFollowUpTemplates().EmailSubject, bare, "Following up on your request to Maple Auto"},
		{"FollowUpText", lead.DefaultFollowUpTemplates().EmailText, bare, "Hi,\n\nWe are following up on your request. Reply to this email if you would like to book a time.\n\nMaple Auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := lead.RenderTemplate(tt.name, tt.template, tt.data)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	require.NoError(t, lead.CheckTemplates(lead.DefaultFollowUpTemplates()))
}

func TestStepWording(t *testing.T) {
	t.Parallel()

	first := lead.Templates{SMS: "first sms", EmailSubject: "first subject", EmailText: "first text"}
	followUp := lead.DefaultFollowUpTemplates()
	tests := []struct {
		name string
		step lead.Step
		want lead.Templates
	}{
		{"InitialFallsBackToFirst", lead.Step{Name: "initial"}, first},
		{"InitialOwnWins", lead.Step{Name: "initial", Template: lead.Templates{SMS: "own"}}, lead.Templates{SMS: "own", EmailSubject: "first subject", EmailText: "first text"}},
		{"FollowUpFallsBackToFollowUp", lead.Step{Name: "day2"}, followUp},
		{"FollowUpOwnWins", lead.Step{Name: "day2", Template: lead.Templates{EmailSubject: "own"}},
			lead.Templates{SMS: followUp.SMS, EmailSubject: "own", EmailText: followUp.EmailText}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.step.Wording(first))
		})
	}
}

func TestSequenceValidate(t *testing.T) {
	t.Parallel()

	sms := func(name string, delay time.Duration) lead.Step {
		return lead.Step{Name: name, Channel: lead.ChannelSMS, Delay: delay, After: lead.AnchorLead}
	}
	email := func(name string, delay time.Duration) lead.Step {
		return lead.Step{Name: name, Channel: lead.ChannelEmail, Delay: delay, After: lead.AnchorLead}
	}
	with := func(st lead.Step, change func(*lead.Step)) lead.Step {
		change(&st)
		return st
	}

	type problem struct{ field, reason string }
	tests := []struct {
		name string
		seq  lead.Sequence
		// problems are the fields named, in order, each with part of its
		// text; none means the sequence is valid.
		problems []problem
	}{
		{"Default", lead.DefaultSequence(), nil},
		{"OneStep", lead.Sequence{sms("initial", 0)}, nil},
		{"FollowUpsOnly", lead.Sequence{sms("nudge", day)}, nil},
		{"EmptyAnchorIsLead", lead.Sequence{with(sms("initial", 0), func(s *lead.Step) { s.After = "" })}, nil},
		{"AnchoredToPrevious", lead.Sequence{sms("initial", 0), with(email("later", 2*day), func(s *lead.Step) { s.After = lead.AnchorPrevious })}, nil},
		{"InitialWithinTheHour", lead.Sequence{sms("initial", 30*time.Minute), with(email("initial", 30*time.Minute), func(s *lead.Step) { s.After = lead.AnchorPrevious })}, nil},
		{"OwnTemplates", lead.Sequence{
			with(sms("initial", 0), func(s *lead.Step) { s.Template.SMS = "Hi {{.Lead.FirstName}}" }),
			with(email("day2", 2*day), func(s *lead.Step) {
				s.Template = lead.Templates{EmailSubject: "{{.Shop.Name}}", EmailText: "{{if .Lead.FirstName}}Hi {{.Lead.FirstName}}{{else}}Hello{{end}}"}
			}),
		}, nil},

		{"Empty", lead.Sequence{}, []problem{{"sequence", "has no steps"}}},
		{"NameMissing", lead.Sequence{sms("", 0)}, []problem{{"sequence[0].name", "is required"}}},
		{"NameNotPlain", lead.Sequence{sms("Day 1", day)}, []problem{{"sequence[0].name", `"Day 1" may only contain lower-case letters`}}},
		{"NameTooLong", lead.Sequence{sms("a123456789b123456789c123456789d123456789e", day)}, []problem{{"sequence[0].name", "is 41 characters long, at most 40"}}},
		{"UnknownChannel", lead.Sequence{with(sms("initial", 0), func(s *lead.Step) { s.Channel = "fax" })},
			[]problem{{"sequence[0].channel", `step "initial" has channel "fax", must be sms or email`}}},
		{"NegativeDelay", lead.Sequence{sms("initial", 0), sms("day1", -time.Hour)},
			[]problem{{"sequence[1].delay", `step "day1" waits -1h, must not be negative`}}},
		{"DuplicateNameAndChannel", lead.Sequence{sms("initial", 0), email("initial", 0), sms("day1", day), sms("day1", 2*day)},
			[]problem{{"sequence[3].name", `step "day1" on sms is already sequence[2]`}}},
		{"FirstAnchoredToPrevious", lead.Sequence{with(sms("initial", 0), func(s *lead.Step) { s.After = lead.AnchorPrevious })},
			[]problem{{"sequence[0].after", `step "initial" is the first step`}}},
		{"UnknownAnchor", lead.Sequence{sms("initial", 0), with(sms("day1", day), func(s *lead.Step) { s.After = "booking" })},
			[]problem{{"sequence[1].after", `step "day1" is anchored to "booking"`}}},
		{"UnknownCondition", lead.Sequence{with(sms("day1", day), func(s *lead.Step) { s.Condition = "no_booking" })},
			[]problem{{"sequence[0].condition", `step "day1" has condition "no_booking"`}}},
		{"InitialTooLate", lead.Sequence{sms("initial", 2*time.Hour)},
			[]problem{{"sequence[0].delay", `step "initial" is due 2h after the lead; it answers the customer's inquiry and must go within 1h`}}},
		{"InitialTooLateThroughAnchor", lead.Sequence{sms("initial", 0), email("day1", day), with(email("initial", 0), func(s *lead.Step) { s.After = lead.AnchorPrevious })},
			[]problem{{"sequence[2].delay", `step "initial" is due 24h after the lead`}}},
		{"TemplateUnknownField", lead.Sequence{sms("initial", 0), with(email("day3", 3*day), func(s *lead.Step) { s.Template.EmailSubject = "Hi {{.Lead.Nickname}}" })},
			[]problem{{"sequence[1].template.email_subject", "template day3.email_subject: unknown field Nickname (in {{.Lead.Nickname}}, line 1 column 10)"}}},
		{"TemplateUnknownFieldInUntakenBranch", lead.Sequence{with(sms("day1", day), func(s *lead.Step) {
			s.Template.SMS = "{{if .Lead.FirstName}}Hi {{.Lead.FirstName}}{{else}}Hi {{.Lead.Nick}}{{end}}"
		})}, []problem{{"sequence[0].template.sms", "template day1.sms: unknown field Nick"}}},
		{"TemplateDoesNotParse", lead.Sequence{with(sms("day1", day), func(s *lead.Step) { s.Template.SMS = "Hi {{.Lead.FirstName" })},
			[]problem{{"sequence[0].template.sms", "template day1.sms: template: day1.sms:1: unclosed action"}}},
		{"TemplateOfTheOtherChannel", lead.Sequence{
			with(sms("day1", day), func(s *lead.Step) { s.Template.EmailSubject = "Hi" }),
			with(email("day3", 3*day), func(s *lead.Step) { s.Template.SMS = "Hi" }),
		}, []problem{
			{"sequence[0].template.email_subject", `step "day1" sends sms, which does not use email_subject`},
			{"sequence[1].template.sms", `step "day3" sends email, which does not use sms`},
		}},
		{"EverythingAtOnce", lead.Sequence{
			{Name: "Initial!", Channel: "pager", Delay: -time.Minute, After: "previous", Condition: "maybe", Template: lead.Templates{SMS: "{{.Nope}}"}},
			with(email("day3", 3*day), func(s *lead.Step) { s.Template.EmailText = "{{.Shop.Owner}}" }),
		}, []problem{
			{"sequence[0].name", "may only contain"},
			{"sequence[0].channel", "must be sms or email"},
			{"sequence[0].delay", "must not be negative"},
			{"sequence[0].after", "is the first step"},
			{"sequence[0].condition", `has condition "maybe"`},
			{"sequence[0].template.sms", "template Initial!.sms: unknown field Nope"},
			{"sequence[1].template.email_text", "template day3.email_text: unknown field Owner"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tt.seq.Validate()
			if tt.problems == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var got []problem
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var vErr *lead.ValidationError
				require.True(t, errors.As(e, &vErr), "every problem is a *lead.ValidationError, got %T", e)
				got = append(got, problem{vErr.Field, vErr.Reason})
			}
			require.Len(t, got, len(tt.problems), "%v", err)
			for i, want := range tt.problems {
				require.Equal(t, want.field, got[i].field)
				require.Contains(t, got[i].reason, want.reason)
			}
		})
	}
}

func TestSequenceDueTimes(t *testing.T) {
	t.Parallel()

	created := time.Date(2026, 3, 7, 10, 15, 0, 0, time.UTC)
	tests := []struct {
		name string
		seq  lead.Sequence
		want []time.Duration // after created, index for index
	}{
		{"Empty", nil, []time.Duration{}},
		{"Default", lead.DefaultSequence(), []time.Duration{0, 0, day, 3 * day, 7 * day}},
		{"Previous", lead.Sequence{
			{Name: "initial", Channel: lead.ChannelSMS, Delay: 5 * time.Minute},
			{Name: "a", Channel: lead.ChannelSMS, Delay: day, After: lead.AnchorPrevious},
			{Name: "b", Channel: lead.ChannelEmail, Delay: 2 * day, After: lead.AnchorPrevious},
			{Name: "c", Channel: lead.ChannelSMS, Delay: 2 * day, After: lead.AnchorLead},
			{Name: "d", Channel: lead.ChannelSMS, Delay: time.Hour, After: lead.AnchorPrevious},
		}, []time.Duration{5 * time.Minute, day + 5*time.Minute, 3*day + 5*time.Minute, 2 * day, 2*day + time.Hour}},
		{"EmptyAnchorIsLead", lead.Sequence{
			{Name: "a", Channel: lead.ChannelSMS, Delay: day},
			{Name: "b", Channel: lead.ChannelSMS, Delay: day},
		}, []time.Duration{day, day}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := tt.seq.DueTimes(created)
			after := make([]time.Duration, len(got))
			for i, due := range got {
				after[i] = due.Sub(created)
			}
			require.Equal(t, tt.want, after)
		})
	}
}

func TestSequenceFind(t *testing.T) {
	t.Parallel()

	seq := lead.DefaultSequence()
	tests := []struct {
		name    string
		channel lead.Channel
		found   bool
	}{
		{"initial", lead.ChannelSMS, true},
		{"initial", lead.ChannelEmail, true},
		{"day3", lead.ChannelEmail, true},
		{"day3", lead.ChannelSMS, false},
		{"day2", lead.ChannelSMS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+string(tt.channel), func(t *testing.T) {
			t.Parallel()

			st, ok := seq.Find(tt.name, tt.channel)
			require.Equal(t, tt.found, ok)
			if ok {
				require.Equal(t, tt.name, st.Name)
				require.Equal(t, tt.channel, st.Channel)
			}
		})
	}
}

func TestSequenceJSON(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()

		seq := lead.DefaultSequence()
		seq = append(seq, lead.Step{Name: "day10", Channel: lead.ChannelEmail, Delay: 90 * time.Minute, After: lead.AnchorPrevious})
		js, err := json.Marshal(seq)
		require.NoError(t, err)
		require.Contains(t, string(js), `{"name":"initial","channel":"sms","after":"lead","delay":"0s"}`)
		require.Contains(t, string(js), `"name":"day1","channel":"sms","after":"lead","template":{"sms":"Hi{{with`)
		require.Contains(t, string(js), `"condition":"no_reply","delay":"24h"}`)
		require.Contains(t, string(js), `"delay":"168h"`)
		require.Contains(t, string(js), `"after":"previous","delay":"1h30m"`)

		var back lead.Sequence
		require.NoError(t, json.Unmarshal(js, &back))
		require.Equal(t, seq, back)
	})

	tests := []struct {
		name    string
		js      string
		want    lead.Step
		wantErr string
	}{
		{"Hand", `{"name":"day2","channel":"email","delay":"48h","after":"previous","condition":"no_reply","template":{"email_subject":"Hi"}}`,
			lead.Step{Name: "day2", Channel: lead.ChannelEmail, Delay: 48 * time.Hour, After: lead.AnchorPrevious, Condition: lead.ConditionNoReply, Template: lead.Templates{EmailSubject: "Hi"}}, ""},
		{"NoDelay", `{"name":"initial","channel":"sms"}`, lead.Step{Name: "initial", Channel: lead.ChannelSMS}, ""},
		{"NullDelay", `{"name":"initial","channel":"sms","delay":null}`, lead.Step{Name: "initial", Channel: lead.ChannelSMS}, ""},
		{"MinutesDelay", `{"name":"soon","channel":"sms","delay":"90m"}`, lead.Step{Name: "soon", Channel: lead.ChannelSMS, Delay: 90 * time.Minute}, ""},
		{"NumberDelay", `{"name":"day1","channel":"sms","delay":86400}`, lead.Step{}, `step "day1": delay 86400 must be a duration string such as "24h"`},
		{"DaysDelay", `{"name":"day1","channel":"sms","delay":"1d"}`, lead.Step{}, `step "day1": delay "1d" is not a duration`},
		{"NotAnObject", `"day1"`, lead.Step{}, "cannot unmarshal"},
		{"UnknownField", `{"name":"day1","channel":"sms","dealy":"24h"}`, lead.Step{}, `step "day1": json: unknown field "dealy"`},
		{"UnknownTemplateField", `{"name":"day1","channel":"sms","template":{"text":"Hi"}}`, lead.Step{}, `step "day1": json: unknown field "text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var got lead.Step
			err := json.Unmarshal([]byte(tt.js), &got)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
