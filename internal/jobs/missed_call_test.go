package jobs_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// The job kinds a missed call sets off, for settled.
var missedCallKinds = []string{"handle_missed_call", "send_sms", "notify_shop"}

const (
	shopPhone   = "+15125550111"
	shopDesk    = "desk@calls.example.com"
	callerPhone = lead.PhoneNumber("+15125550142")
)

// callShop is a shop whose Twilio number forwards to its phone, that lets
// a first reply go without consent on record (a caller gave none) and is
// told of missed calls by email.
func (b *webhookBundle) callShop(t *testing.T, name string, change func(*lead.Tenant)) lead.Tenant {
	t.Helper()
	shop := b.addShop(t, name)
	shop.ShopPhone, shop.NotifyEmail, shop.AllowFirstReplyWithoutConsent = shopPhone, shopDesk, true
	if change != nil {
		change(&shop)
	}
	shop, err := b.store.UpdateTenant(context.Background(), shop, nil)
	require.NoError(t, err)
	return shop
}

// call plays a customer calling the shop, as Twilio does, the forward
// ending with answer.
func (b *webhookBundle) call(t *testing.T, shop lead.Tenant, from lead.PhoneNumber, answer string) faketwilio.PlayedCall {
	t.Helper()
	played, err := faketwilio.PlayCall(context.Background(), http.DefaultClient,
		webhookurl.URL(b.server.URL, webhookurl.TwilioVoice(shop.ID.String())), faketwilio.DefaultAuthToken, string(from), shop.SMSFrom, answer)
	require.NoError(t, err)
	return played
}

// textsTo are the texts the Twilio fake accepted for number.
func (b *webhookBundle) textsTo(number lead.PhoneNumber) []faketwilio.Message {
	var out []faketwilio.Message
	for _, m := range b.sandbox.Twilio.Messages() {
		if m.To == string(number) {
			out = append(out, m)
		}
	}
	return out
}

func (b *webhookBundle) noticesTo(address string) int {
	n := 0
	for _, e := range b.sandbox.SendGrid.Emails() {
		if e.To == address && strings.HasPrefix(e.Subject, "Missed call") {
			n++
		}
	}
	return n
}

// TestMissedCallBecomesALead: a call nobody at the shop answers, played by
// the sandbox's simulator on the worker's real routes: the call is
// forwarded to the shop's phone for 20 s showing the caller's number; the
// caller becomes one lead of source missed_call, gets one text (the
// default wording) and the shop a notice. A second missed call from the
// same number within 24 hours makes no second lead and no second text.
func TestMissedCallBecomesALead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.callShop(t, "calls", nil)
	require.NoError(t, b.sandbox.Simulator.SetWorkers(b.server.URL))

	played, err := b.sandbox.Simulator.Call(ctx, sandbox.CustomerCall{TenantID: shop.ID.String(), ShopNumber: shop.SMSFrom, From: string(callerPhone)})
	require.NoError(t, err)
	require.True(t, played.Forwarded)
	require.Equal(t, shopPhone, played.DialedTo)
	require.Equal(t, string(callerPhone), played.CallerID)
	require.Equal(t, "20", played.Timeout)
	require.Equal(t, "no-answer", played.DialStatus)
	require.Contains(t, played.Said, "Sorry we missed your call")

	require.Eventually(t, func() bool { return len(b.textsTo(callerPhone)) == 1 }, 15*time.Second, 10*time.Millisecond)
	b.settled(t, missedCallKinds...)
	text := b.textsTo(callerPhone)[0]
	require.Equal(t, "Sorry we missed your call at calls! How can we help? Reply here and we will get back to you shortly. Reply STOP to opt out.", text.Body)
	require.Equal(t, shop.SMSFrom, text.From)
	require.Equal(t, 1, b.noticesTo(shopDesk))

	var (
		leadID   uuid.UUID
		source   string
		external string
	)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id, source, external_id FROM leads WHERE tenant_id = $1`, shop.ID).Scan(&leadID, &source, &external))
	require.Equal(t, "missed_call", source)
	require.Equal(t, "call:"+played.CallSid, external)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND lead_id = $2 AND dial_status = 'no-answer'
		AND handled_at IS NOT NULL AND texted_at IS NOT NULL AND ended_at IS NOT NULL`, shop.ID, leadID))

	// Again, busy this time: recorded and the shop told, but no second
	// lead and no second text.
	_, err = b.sandbox.Simulator.Call(ctx, sandbox.CustomerCall{TenantID: shop.ID.String(), ShopNumber: shop.SMSFrom, From: string(callerPhone), Answer: "busy"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.noticesTo(shopDesk) == 2 }, 15*time.Second, 10*time.Millisecond)
	b.settled(t, missedCallKinds...)
	require.Len(t, b.textsTo(callerPhone), 1, "one missed-call text per number per 24 hours")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND lead_id = $2 AND handled_at IS NOT NULL`, shop.ID, leadID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND texted_at IS NOT NULL`, shop.ID))

	// Played events show on the simulator's feed.
	events := b.sandbox.Simulator.Events(0)
	require.Len(t, events, 2)
	require.Equal(t, sandbox.SimulatedCall, events[1].Kind)
	require.Equal(t, "busy", events[1].Call.DialStatus)
}

// TestAnsweredCallChangesNothing: a forward that was answered (completed,
// which is also what the shop phone's voicemail picking up looks like) is
// recorded and makes no lead, no text and no notice.
func TestAnsweredCallChangesNothing(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "answered", nil)
	played := b.call(t, shop, callerPhone, "completed")
	require.True(t, played.Forwarded)
	require.Empty(t, played.Said, "an answered call just ends")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND dial_status = 'completed' AND ended_at IS NOT NULL`, shop.ID))
	b.settled(t, missedCallKinds...)
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = ANY($1)`, missedCallKinds))
	require.Zero(t, b.count(t, `SELECT count(*) FROM leads`))
	require.Zero(t, b.sandbox.Stats().SMS)
}

// TestMissedCallFromAKnownCustomer: a number that already has a lead gets
// no second lead: the call is recorded against the newest one, which gets
// the missed-call text, though it was texted (its first message) before.
func TestMissedCallFromAKnownCustomer(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop, l := b.inboundFixture(t, shopDesk)
	shop.ShopPhone, shop.AllowFirstReplyWithoutConsent = shopPhone, true
	shop, err := b.store.UpdateTenant(context.Background(), shop, nil)
	require.NoError(t, err)

	b.call(t, shop, l.Phone, "failed")
	require.Eventually(t, func() bool { return len(b.textsTo(l.Phone)) == 2 }, 15*time.Second, 10*time.Millisecond)
	b.settled(t, missedCallKinds...)
	require.Contains(t, b.textsTo(l.Phone)[1].Body, "Sorry we missed your call")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND lead_id = $2`, shop.ID, l.ID))
	require.Equal(t, 1, b.noticesTo(shopDesk))
}

// TestMissedCallAfterStop: a caller who texted STOP is recorded and the
// shop told, but gets no text: the send stops at the suppression list.
func TestMissedCallAfterStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l := b.inboundFixture(t, "")
	shop.ShopPhone, shop.AllowFirstReplyWithoutConsent = shopPhone, true
	shop, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	b.text(t, shop, l.Phone, "STOP")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1`, shop.ID) == 1
	}, 10*time.Second, 10*time.Millisecond)

	b.call(t, shop, l.Phone, "no-answer")
	b.settled(t, missedCallKinds...)
	require.Len(t, b.textsTo(l.Phone), 1, "only the first message, before the STOP")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND step LIKE 'missed-call-%' AND status = 'suppressed'`, shop.ID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
}

// TestMissedCallOutsideTheWindow: a call missed outside the shop's sending
// window makes its lead at once, but the text waits for the window.
func TestMissedCallOutsideTheWindow(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "night", func(tn *lead.Tenant) {
		loc, err := time.LoadLocation(tn.TimeZone)
		require.NoError(t, err)
		now := time.Now().In(loc)
		// A one-hour window at least six hours away from now.
		start := lead.TimeOfDay((now.Hour()*60 + now.Minute() + 360) % 1380)
		tn.QuietHours, tn.QuietRule = lead.QuietHours{Start: start, End: start + 60}, lead.QuietRuleNone
	})
	b.call(t, shop, callerPhone, "no-answer")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND state = 'scheduled'
			AND scheduled_at > now() + interval '1 hour'`) == 1
	}, 15*time.Second, 10*time.Millisecond, "the text is snoozed until the window opens")
	b.settled(t, "handle_missed_call", "notify_shop")
	require.Empty(t, b.textsTo(callerPhone))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND source = 'missed_call'`, shop.ID))
}

// TestCallWithoutShopPhone: a shop that set no phone cannot take the call;
// the caller hears so and the call counts as missed at once. A caller who
// withheld their number is recorded but makes no lead and gets no text.
func TestCallWithoutShopPhone(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "nophone", func(tn *lead.Tenant) { tn.ShopPhone = "" })
	played := b.call(t, shop, callerPhone, "no-answer")
	require.False(t, played.Forwarded)
	require.Equal(t, "Sorry, nophone cannot take your call right now. We will get back to you as soon as we can. Goodbye.", played.Said)
	require.Eventually(t, func() bool { return len(b.textsTo(callerPhone)) == 1 }, 15*time.Second, 10*time.Millisecond)

	played = b.call(t, shop, "+266696687", "no-answer") // Twilio's ANONYMOUS
	require.False(t, played.Forwarded)
	b.settled(t, missedCallKinds...)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND from_number = 'anonymous' AND handled_at IS NOT NULL AND lead_id IS NULL`, shop.ID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	require.Equal(t, 1, b.sandbox.Stats().SMS)
}

// voiceForm is the incoming-call form of callSid from callerPhone.
func voiceForm(shop lead.Tenant, callSid string) url.Values {
	return url.Values{"CallSid": {callSid}, "AccountSid": {faketwilio.DefaultAccountSID}, "From": {string(callerPhone)},
		"To": {shop.SMSFrom}, "CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
}

// postVoice posts form to the route, signed with token, and returns the
// status.
func postVoice(t *testing.T, target, token string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", faketwilio.Signature(token, target, form))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestVoiceWebhookRefusalsAndRedelivery: a forged or unsigned call, one to
// an unknown tenant and one to another number are refused and store
// nothing; a redelivered incoming call and dial callback store one call
// and enqueue one handling, which texts once.
func TestVoiceWebhookRefusalsAndRedelivery(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "refusals", nil)
	voice := webhookurl.URL(b.server.URL, webhookurl.TwilioVoice(shop.ID.String()))
	dial := webhookurl.URL(b.server.URL, webhookurl.TwilioVoiceDial(shop.ID.String()))
	sid := "CA" + strings.Repeat("ab", 16)
	form := voiceForm(shop, sid)

	require.Equal(t, http.StatusUnauthorized, postVoice(t, voice, "", form), "unsigned")
	require.Equal(t, http.StatusUnauthorized, postVoice(t, voice, "forgedtoken00000000000000000000000", form), "forged")
	unknown := webhookurl.URL(b.server.URL, webhookurl.TwilioVoice(uuid.NewString()))
	require.Equal(t, http.StatusUnauthorized, postVoice(t, unknown, faketwilio.DefaultAuthToken, form), "unknown tenant")
	other := voiceForm(shop, sid)
	other.Set("To", "+15125550177")
	require.Equal(t, http.StatusBadRequest, postVoice(t, voice, faketwilio.DefaultAuthToken, other), "not the shop's number")
	ended := voiceForm(shop, sid)
	ended.Set("DialCallStatus", "no-answer")
	require.Equal(t, http.StatusUnauthorized, postVoice(t, dial, "forgedtoken00000000000000000000000", ended), "forged dial callback")
	require.Zero(t, b.count(t, `SELECT count(*) FROM calls`), "nothing stored for a refused request")

	for range 2 {
		require.Equal(t, http.StatusOK, postVoice(t, voice, faketwilio.DefaultAuthToken, form))
	}
	for range 2 {
		require.Equal(t, http.StatusOK, postVoice(t, dial, faketwilio.DefaultAuthToken, ended))
	}
	require.Eventually(t, func() bool { return len(b.textsTo(callerPhone)) == 1 }, 15*time.Second, 10*time.Millisecond)
	b.settled(t, missedCallKinds...)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'handle_missed_call'`))
	require.Len(t, b.textsTo(callerPhone), 1)
	// A later report of the same call (answered, say) changes nothing.
	ended.Set("DialCallStatus", "completed")
	require.Equal(t, http.StatusOK, postVoice(t, dial, faketwilio.DefaultAuthToken, ended))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE dial_status = 'no-answer'`))
}

// TestConcurrentMissedCalls: several calls from one new number missed at
// the same moment (several CallSids) make one lead and one text.
func TestConcurrentMissedCalls(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "rush", nil)
	const calls = 4
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() { b.call(t, shop, callerPhone, "no-answer") })
	}
	wg.Wait()
	require.Eventually(t, func() bool { return len(b.textsTo(callerPhone)) >= 1 }, 15*time.Second, 10*time.Millisecond)
	b.settled(t, missedCallKinds...)
	require.Equal(t, calls, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND handled_at IS NOT NULL`, shop.ID))
	require.Len(t, b.textsTo(callerPhone), 1)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
}
