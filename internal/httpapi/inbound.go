package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxWebhookText bounds one text field of a webhook: Twilio bodies are at
// most 1600 characters, ids far shorter. A longer value is not what the
// provider sends.
const maxWebhookText = 8 << 10

// ShopMonkey webhook operations.
const (
	ShopMonkeyInsert = "INSERT"
	ShopMonkeyUpdate = "UPDATE"
	ShopMonkeyDelete = "DELETE"
)

// The ShopMonkey status and sources that make a record a lead. They repeat
// the rules of crm/shopmonkey's FetchNewLeads, which are unexported there;
// keep the two in step.
const (
	shopMonkeyStatusEstimate = "Estimate"
)

var shopMonkeyLeadSources = []string{"WorkRequestForm", "AppointmentScheduler"}

// ShopMonkeyEvent is a verified ShopMonkey webhook, reduced to what decides
// whether to ingest: which record changed and, for orders and
// appointments, whether it can be a lead. The record itself is fetched
// again by ingest_lead; nothing here is stored.
type ShopMonkeyEvent struct {
	APIVersion string
	// Operation is INSERT, UPDATE or DELETE.
	Operation string
	// Table is the record kind ("order", "appointment", "customer", ...).
	Table string
	// RecordID is data.id.
	RecordID string
	// LocationID is an order's or appointment's data.locationId: the shop.
	// An account's webhook covers all its locations; only one is a tenant.
	LocationID string
	// Status is an order's data.status ("Estimate", "RepairOrder",
	// "Invoice"); empty for other tables or when absent.
	Status string
	// AttributionSource is an appointment's data.attributionSource
	// ("WorkRequestForm", "AppointmentScheduler", "Manual"); empty for other
	// tables or when absent.
	AttributionSource string
	// Version is data.meta.version, or data.updatedDate in milliseconds
	// when the record has no version, as the adapter computes it, so a
	// webhook's ingest and a poll's ingest of the same change share
	// IngestLeadArgs' unique key. Zero when neither is readable.
	Version int64
}

// ExternalID is the record's id as crm/shopmonkey names leads
// ("order:<id>", "appointment:<id>"), or "" for other tables.
func (e ShopMonkeyEvent) ExternalID() string {
	switch e.Table {
	case "order", "appointment":
		return e.Table + ":" + e.RecordID
	}
	return ""
}

// LeadCandidate reports whether the event can be about a lead, so that the
// record is worth fetching: an order still an estimate, or an appointment
// the customer booked, that was not deleted. A field the webhook did not
// carry rules nothing out; the fetch decides.
func (e ShopMonkeyEvent) LeadCandidate() bool {
	if e.Operation == ShopMonkeyDelete {
		return false
	}
	switch e.Table {
	case "order":
		return e.Status == "" || e.Status == shopMonkeyStatusEstimate
	case "appointment":
		return e.AttributionSource == "" || slices.Contains(shopMonkeyLeadSources, e.AttributionSource)
	}
	return false
}

// Relevant reports whether the event may matter to the orchestrator at
// all: any order or appointment that was inserted or updated. Beyond lead
// candidates, that is an estimate converted or authorized (its lead is
// booked) and an appointment staff made for a customer who is a lead
// (booked too); ingest fetches the record and decides.
func (e ShopMonkeyEvent) Relevant() bool {
	return e.Operation != ShopMonkeyDelete && (e.Table == "order" || e.Table == "appointment")
}

// ParseShopMonkeyWebhook decodes a verified ShopMonkey webhook body
// {"apiVersion","operation","table","data","diff"}. Errors name the field.
func ParseShopMonkeyWebhook(body []byte) (ShopMonkeyEvent, error) {
	var v struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Operation  json.RawMessage `json:"operation"`
		Table      json.RawMessage `json:"table"`
		Data       json.RawMessage `json:"data"`
	}
	if err := decodeObject(body, &v); err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: body %w", err)
	}
	var e ShopMonkeyEvent
	var err error
	e.APIVersion = versionText(v.APIVersion)
	if e.Operation, err = jsonText("operation", v.Operation, true); err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	e.Operation = strings.ToUpper(e.Operation)
	switch e.Operation {
	case ShopMonkeyInsert, ShopMonkeyUpdate, ShopMonkeyDelete:
	default:
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: field operation: want INSERT, UPDATE or DELETE, got %s", excerpt(e.Operation))
	}
	if e.Table, err = jsonText("table", v.Table, true); err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}

	var data struct {
		ID                json.RawMessage `json:"id"`
		LocationID        json.RawMessage `json:"locationId"`
		Status            json.RawMessage `json:"status"`
		AttributionSource json.RawMessage `json:"attributionSource"`
		UpdatedDate       json.RawMessage `json:"updatedDate"`
		Meta              json.RawMessage `json:"meta"`
	}
	if isNull(v.Data) {
		return ShopMonkeyEvent{}, errors.New("shopmonkey webhook: field data: is missing")
	}
	if err := decodeObject(v.Data, &data); err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: field data: %w", err)
	}
	if e.RecordID, err = jsonText("data.id", data.ID, true); err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	// The lead fields are read only where they decide something: another
	// table's own "status" or "locationId" must not fail its webhook.
	switch e.Table {
	case "order":
		e.Status, err = jsonText("data.status", data.Status, false)
	case "appointment":
		e.AttributionSource, err = jsonText("data.attributionSource", data.AttributionSource, false)
	}
	if err == nil && e.ExternalID() != "" {
		e.LocationID, err = jsonText("data.locationId", data.LocationID, false)
	}
	if err != nil {
		return ShopMonkeyEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	e.Version = shopMonkeyVersion(data.Meta, data.UpdatedDate)
	return e, nil
}

// versionText reads apiVersion, a string or a number (its type is not
// documented). It decides nothing, so an unreadable one is "" rather than
// a refused webhook.
func versionText(raw json.RawMessage) string {
	if s, err := jsonText("apiVersion", raw, false); err == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// shopMonkeyVersion is the adapter's version rule: meta.version (a number
// or a numeric string), else updatedDate in milliseconds. It never fails:
// the version only keys dedupe, and ingest reads the real one.
func shopMonkeyVersion(meta, updated json.RawMessage) int64 {
	var m struct {
		Version json.RawMessage `json:"version"`
	}
	if !isNull(meta) && json.Unmarshal(meta, &m) == nil && !isNull(m.Version) {
		text := string(bytes.TrimSpace(m.Version))
		if text[0] == '"' {
			if json.Unmarshal(m.Version, &text) != nil {
				return 0
			}
			text = strings.TrimSpace(text)
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	var s string
	if isNull(updated) || json.Unmarshal(updated, &s) != nil {
		return 0
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// TekmetricRecordKind says what kind of record a Tekmetric webhook is
// about.
type TekmetricRecordKind string

// Tekmetric record kinds. Only repair orders and appointments can be leads.
const (
	TekmetricRepairOrder TekmetricRecordKind = "repair-order"
	TekmetricAppointment TekmetricRecordKind = "appointment"
	TekmetricOther       TekmetricRecordKind = "other"
)

// TekmetricEvent is a Tekmetric webhook reduced to which record it names.
// Tekmetric signs nothing, so nothing else of the body is trusted: the
// record is fetched by ID, and checked against the tenant's shop, before
// anything is done with it.
type TekmetricEvent struct {
	// Event is the name as sent ("Repair Order Created").
	Event string
	Kind  TekmetricRecordKind
	// ID is data.id: positive for repair orders and appointments, zero
	// for other events without a readable one.
	ID int64
	// UpdatedDate is data.updatedDate as sent, when there is one.
	UpdatedDate string
}

// ExternalID is the record's id as crm/tekmetric names leads
// ("repair-order:<id>", "appointment:<id>"), or "" for other records.
func (e TekmetricEvent) ExternalID() string {
	if e.Kind == TekmetricOther || e.ID <= 0 {
		return ""
	}
	return string(e.Kind) + ":" + strconv.FormatInt(e.ID, 10)
}

// ParseTekmetricWebhook decodes a Tekmetric webhook body
// {"event":"...","data":{...}}. The record kind comes from the event name
// ("Repair Order ..." or "Appointment ..."); other events ("Customer Viewed
// Estimate", whose data is not known to be a repair order) are
// TekmetricOther, and their data.id is read only when it is a positive
// integer. Errors name the field.
func ParseTekmetricWebhook(body []byte) (TekmetricEvent, error) {
	var v struct {
		Event json.RawMessage `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := decodeObject(body, &v); err != nil {
		return TekmetricEvent{}, fmt.Errorf("tekmetric webhook: body %w", err)
	}
	event, err := jsonText("event", v.Event, true)
	if err != nil {
		return TekmetricEvent{}, fmt.Errorf("tekmetric webhook: %w", err)
	}
	e := TekmetricEvent{Event: event, Kind: tekmetricKind(event)}

	var data struct {
		ID          json.RawMessage `json:"id"`
		UpdatedDate json.RawMessage `json:"updatedDate"`
	}
	if isNull(v.Data) {
		if e.Kind == TekmetricOther {
			return e, nil
		}
		return TekmetricEvent{}, errors.New("tekmetric webhook: field data: is missing")
	}
	if err := decodeObject(v.Data, &data); err != nil {
		if e.Kind == TekmetricOther {
			return e, nil
		}
		return TekmetricEvent{}, fmt.Errorf("tekmetric webhook: field data: %w", err)
	}
	id, err := jsonPositiveInt("data.id", data.ID)
	if err != nil {
		if e.Kind == TekmetricOther {
			return e, nil
		}
		return TekmetricEvent{}, fmt.Errorf("tekmetric webhook: %w", err)
	}
	e.ID = id
	// Best effort: a record's updatedDate, when the webhook carries it, is
	// what its version is made of (see Version).
	if updated, err := jsonText("data.updatedDate", data.UpdatedDate, false); err == nil {
		e.UpdatedDate = updated
	}
	return e, nil
}

// Version is the record's version as the Tekmetric adapter computes it
// (updatedDate in Unix milliseconds; a time without a zone is the shop's
// wall clock in loc), so a webhook and a poll of the same change share one
// ingest job. ok is false when the webhook carried no usable updatedDate.
func (e TekmetricEvent) Version(loc *time.Location) (v int64, ok bool) {
	if e.UpdatedDate == "" {
		return 0, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, e.UpdatedDate); err == nil {
			return t.UnixMilli(), true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", e.UpdatedDate, loc); err == nil {
		return t.UnixMilli(), true
	}
	return 0, false
}

// tekmetricKind reads the record kind from an event name. Tekmetric's
// names are "<Record> <Verb>" in title case; case and spacing are not
// relied on.
func tekmetricKind(event string) TekmetricRecordKind {
	name := strings.ToLower(strings.Join(strings.Fields(event), " "))
	switch {
	case strings.HasPrefix(name, "repair order "):
		return TekmetricRepairOrder
	case strings.HasPrefix(name, "appointment "):
		return TekmetricAppointment
	}
	return TekmetricOther
}

// InboundSMS is a text a customer sent to a tenant's number, from Twilio's
// incoming message webhook.
type InboundSMS struct {
	MessageSid string
	AccountSid string
	// From and To are as Twilio sent them: E.164 for SMS ("+15555550100").
	From string
	To   string
	// Body may be empty: a picture with no text. NUL and invalid UTF-8,
	// which no phone sends but which could not be stored, are U+FFFD.
	Body     string
	NumMedia int
	// OptOutType is STOP, START or HELP when Advanced Opt-Out matched a
	// keyword, else empty. Twilio has already blocked (or unblocked) the
	// sender by then; we keep our own suppression list too.
	OptOutType string
}

// ParseTwilioInbound reads a verified incoming-message webhook's form. The
// first value of each parameter is read, as the signature check reads it.
// Errors name the field.
func ParseTwilioInbound(form url.Values) (InboundSMS, error) {
	r := formReader{form: form}
	m := InboundSMS{
		MessageSid: r.text("MessageSid", true),
		AccountSid: r.text("AccountSid", true),
		From:       r.text("From", true),
		To:         r.text("To", true),
		Body:       r.freeText("Body"),
		NumMedia:   r.count("NumMedia"),
		OptOutType: r.text("OptOutType", false),
	}
	if r.err != nil {
		return InboundSMS{}, fmt.Errorf("twilio inbound message: %w", r.err)
	}
	return m, nil
}

// Twilio message statuses, as status callbacks report them.
var twilioStatuses = []string{
	"accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed",
	"delivered", "undelivered", "receiving", "received", "read", "partially_delivered",
}

// StatusCallback is one delivery report from Twilio for a message we sent.
// Callbacks repeat and arrive out of order: a later one may carry an
// earlier status.
type StatusCallback struct {
	MessageSid    string
	AccountSid    string
	MessageStatus string
	// ErrorCode is Twilio's error (30003 unreachable, 30007 filtered,
	// 30034 unregistered 10DLC, ...), 0 when there is none.
	ErrorCode int
}

// ParseTwilioStatus reads a verified status callback's form. An unknown
// MessageStatus is an error naming it rather than a guess. Errors name the
// field.
func ParseTwilioStatus(form url.Values) (StatusCallback, error) {
	r := formReader{form: form}
	s := StatusCallback{
		MessageSid:    r.text("MessageSid", true),
		AccountSid:    r.text("AccountSid", false),
		MessageStatus: r.text("MessageStatus", true),
		ErrorCode:     r.count("ErrorCode"),
	}
	if r.err == nil && !slices.Contains(twilioStatuses, s.MessageStatus) {
		r.fail("MessageStatus", "is not a Twilio message status: "+excerpt(s.MessageStatus))
	}
	if r.err != nil {
		return StatusCallback{}, fmt.Errorf("twilio status callback: %w", r.err)
	}
	return s, nil
}

// formReader reads form fields, keeping the first problem, like
// bufio.Scanner: check err once at the end.
type formReader struct {
	form url.Values
	err  error
}

func (r *formReader) fail(field, reason string) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: %s", field, reason)
	}
}

// text reads a text field, which must be present and non-empty when
// required.
func (r *formReader) text(field string, required bool) string {
	s := r.form.Get(field)
	if s == "" {
		if required {
			r.fail(field, "is missing")
		}
		return ""
	}
	if reason := badText(s); reason != "" {
		r.fail(field, reason)
		return ""
	}
	return s
}

// freeText reads what a person typed. Bytes that cannot be stored (NUL,
// invalid UTF-8) become U+FFFD instead of failing the webhook: refusing a
// reply would lose a STOP, or let the sequence go on texting someone who
// answered.
func (r *formReader) freeText(field string) string {
	s := r.form.Get(field)
	if len(s) > maxWebhookText {
		r.fail(field, "is longer than "+strconv.Itoa(maxWebhookText)+" bytes")
		return ""
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// count reads an optional non-negative integer; absent or empty is 0.
func (r *formReader) count(field string) int {
	s := strings.TrimSpace(r.form.Get(field))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		r.fail(field, "is not a non-negative integer: "+excerpt(s))
		return 0
	}
	return n
}

// badText says why s cannot be stored as text (Postgres refuses NUL and
// invalid UTF-8), or "".
func badText(s string) string {
	switch {
	case len(s) > maxWebhookText:
		return "is longer than " + strconv.Itoa(maxWebhookText) + " bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	}
	return ""
}

// decodeObject unmarshals raw, which must be one JSON object, into v.
func decodeObject(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("is not a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("is not a JSON object: " + err.Error())
	}
	return nil
}

// jsonText reads a JSON string field, which must be present and non-empty
// when required. An id or name with control characters is not one a
// provider wrote.
func jsonText(field string, raw json.RawMessage, required bool) (string, error) {
	if isNull(raw) {
		if required {
			return "", fmt.Errorf("field %s: is missing", field)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %s: is not a string: %s", field, excerpt(string(raw)))
	}
	if s == "" && required {
		return "", fmt.Errorf("field %s: is empty", field)
	}
	if reason := badText(s); reason != "" {
		return "", fmt.Errorf("field %s: %s", field, reason)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("field %s: contains control characters: %s", field, excerpt(s))
	}
	return s, nil
}

// jsonPositiveInt reads a required JSON integer id.
func jsonPositiveInt(field string, raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, fmt.Errorf("field %s: is missing", field)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("field %s: is not a positive integer: %s", field, excerpt(string(raw)))
	}
	return n, nil
}

// isNull reports whether a field is absent or null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// excerpt quotes the start of a value for an error message.
func excerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
