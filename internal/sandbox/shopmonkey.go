package sandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ShopMonkey is a fake of ShopMonkey API v3. It serves the real paths
// (/v3/order, /v3/appointment, /v3/customer/{id}, ...) with the real
// envelopes and reproduces the quirks seen against the live API, because the
// adapter is shaped by them:
//
//   - limit is silently capped at 100;
//   - orderBy on createdDate/updatedDate is silently ignored (rows come in id
//     order), and a lowercase orderby parameter is a 400;
//   - where operators are bare ({"updatedDate":{"gte":...}}); Mongo-style
//     "$gte" is silently dropped, so the filter matches more than asked;
//   - with SetUnstableSkip, paging with skip returns shifted, overlapping
//     pages, as the live API does for the same call made twice;
//   - with SetDuplicatePageRate, an order or appointment list sometimes
//     repeats rows within one page, and with SetDropRecordRate it sometimes
//     leaves a row out while meta.total still counts it; a row left out is
//     back on the next page that covers it, so overlapping poll windows
//     find it.
//
// Each API key belongs to one location and sees only that location's rows.
// Rows are kept as JSON objects, so tests can plant malformed records with
// AddRaw or Mutate. ShopMonkey is safe for concurrent use.
type ShopMonkey struct {
	mu            sync.Mutex
	rng           *rand.Rand
	now           func() time.Time
	keys          map[string]*smKey
	tables        map[ShopMonkeyTable]map[string]*smRow
	leads         map[string][]LeadRef
	seq           int
	nextNumber    int
	unstableSkip  bool
	embedContacts bool
	requests      []ShopMonkeyRequest
	faults        faults
	mux           *http.ServeMux

	// quirkRNG draws the list quirks, apart from rng so that turning them on
	// does not change the ids and names seeded afterwards.
	quirkRNG          *rand.Rand
	duplicatePageRate float64
	dropRecordRate    float64
}

// ShopMonkeyDefaultSeed seeds the random values of a new ShopMonkey, so that
// two runs of a test or of the demo see the same names, ids and vehicles.
const ShopMonkeyDefaultSeed = 1

// NewShopMonkey returns an empty fake with no locations, contacts embedded
// in customer reads, stable skip paging and the wall clock.
func NewShopMonkey() *ShopMonkey {
	s := &ShopMonkey{
		now:           time.Now,
		keys:          map[string]*smKey{},
		tables:        map[ShopMonkeyTable]map[string]*smRow{},
		leads:         map[string][]LeadRef{},
		nextNumber:    1001,
		embedContacts: true,
		quirkRNG:      newFaultRand(DefaultFaultSeed),
	}
	s.Seed(ShopMonkeyDefaultSeed)
	for _, t := range []ShopMonkeyTable{ShopMonkeyOrder, ShopMonkeyAppointment, ShopMonkeyCustomer, ShopMonkeyVehicle, ShopMonkeyPhoneNumber, ShopMonkeyEmail} {
		s.tables[t] = map[string]*smRow{}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /v3/order", s.authed(s.handleList(ShopMonkeyOrder)))
	s.mux.HandleFunc("GET /v3/order/{id}", s.authed(s.handleGet(ShopMonkeyOrder)))
	s.mux.HandleFunc("GET /v3/appointment", s.authed(s.handleList(ShopMonkeyAppointment)))
	s.mux.HandleFunc("GET /v3/appointment/{id}", s.authed(s.handleGet(ShopMonkeyAppointment)))
	s.mux.HandleFunc("POST /v3/appointment", s.authed(s.handleCreateAppointment))
	s.mux.HandleFunc("GET /v3/customer/{id}", s.authed(s.handleGet(ShopMonkeyCustomer)))
	s.mux.HandleFunc("GET /v3/customer/{id}/phone_number", s.authed(s.handleContactList(ShopMonkeyPhoneNumber)))
	s.mux.HandleFunc("GET /v3/customer/{id}/email", s.authed(s.handleContactList(ShopMonkeyEmail)))
	s.mux.HandleFunc("GET /v3/vehicle/{id}", s.authed(s.handleGet(ShopMonkeyVehicle)))
	s.mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		smWriteError(w, http.StatusNotFound, "NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// ShopMonkeyTable names a kind of ShopMonkey record, spelled as in its URL
// path, for the seeding and inspection methods.
type ShopMonkeyTable string

const (
	ShopMonkeyOrder       ShopMonkeyTable = "order"
	ShopMonkeyAppointment ShopMonkeyTable = "appointment"
	ShopMonkeyCustomer    ShopMonkeyTable = "customer"
	ShopMonkeyVehicle     ShopMonkeyTable = "vehicle"
	ShopMonkeyPhoneNumber ShopMonkeyTable = "phone_number"
	ShopMonkeyEmail       ShopMonkeyTable = "email"
)

// ShopMonkeyRequest is one request the fake received, as tests assert on
// it: what the adapter asked for, never its credentials.
type ShopMonkeyRequest struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	RawQuery string `json:"raw_query"`
	Body     string `json:"body,omitempty"`
}

// ShopMonkeyCounts is how many records of each kind a location holds.
type ShopMonkeyCounts struct {
	Orders       int `json:"orders"`
	Appointments int `json:"appointments"`
	Customers    int `json:"customers"`
	Vehicles     int `json:"vehicles"`
}

// LeadSpec describes a lead to seed: an estimate (order) or a booking
// request (appointment) with its customer and vehicle. Every empty field gets
// a realistic random value from the fake's seeded generator; the JSON tags
// let cmd/sandbox take a LeadSpec as a request body.
type LeadSpec struct {
	// Kind is "order" (the default) or "appointment".
	Kind string `json:"kind,omitempty"`

	// CustomerID reuses a customer of the location (a returning customer);
	// the name, phone and email fields are then ignored.
	CustomerID  string `json:"customer_id,omitempty"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
	// Phone is stored exactly as given, so a test can plant "call me maybe";
	// generated numbers look like ShopMonkey's: "(555) 201-3344".
	Phone   string `json:"phone,omitempty"`
	NoPhone bool   `json:"no_phone,omitempty"`
	Email   string `json:"email,omitempty"`
	NoEmail bool   `json:"no_email,omitempty"`
	// OptIn, Subscribed and MarketingOptIn are the consent flags; nil means
	// true, the usual state of a customer who just filled in a web form.
	OptIn                  *bool  `json:"opt_in,omitempty"`
	Subscribed             *bool  `json:"subscribed,omitempty"`
	MarketingOptIn         *bool  `json:"marketing_opt_in,omitempty"`
	PreferredContactMethod string `json:"preferred_contact_method,omitempty"`

	// VehicleID reuses a vehicle of the location; the vehicle fields are
	// then ignored.
	VehicleID    string `json:"vehicle_id,omitempty"`
	Year         int    `json:"year,omitempty"`
	Make         string `json:"make,omitempty"`
	Model        string `json:"model,omitempty"`
	Submodel     string `json:"submodel,omitempty"`
	VIN          string `json:"vin,omitempty"`
	LicensePlate string `json:"license_plate,omitempty"`
	// MissingVehicle makes the lead name a vehicle the location has no
	// record of (deleted, or merged into another), so a fetch of it is a
	// 404.
	MissingVehicle bool `json:"missing_vehicle,omitempty"`

	// Complaint is the order's complaint or the appointment's name.
	Complaint string `json:"complaint,omitempty"`

	// Status of an order: "Estimate" (default), "RepairOrder" or "Invoice".
	Status     string `json:"status,omitempty"`
	Authorized bool   `json:"authorized,omitempty"`
	Archived   bool   `json:"archived,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`

	// AttributionSource of an appointment: "WorkRequestForm" (default),
	// "AppointmentScheduler" or "Manual".
	AttributionSource string    `json:"attribution_source,omitempty"`
	Confirmed         bool      `json:"confirmed,omitempty"`
	StartAt           time.Time `json:"start_at,omitzero"`

	// CreatedAt defaults to now, UpdatedAt to CreatedAt.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// LeadRef identifies a seeded lead and its records, including the
// ExternalID the adapter reports for it.
type LeadRef struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	LocationID string `json:"location_id"`
	CustomerID string `json:"customer_id,omitempty"`
	VehicleID  string `json:"vehicle_id,omitempty"`
}

type smKey struct {
	location  string
	forbidden bool
}

// smRow is one stored record. data holds JSON values only (json.Number for
// numbers) so that filters compare planted and generated rows alike.
type smRow struct {
	key  string // the id, or a generated key for a planted row without one
	loc  string
	seq  int
	data map[string]any
	// dropped says the drop-record quirk left the row out of the last page
	// that covered it, so the next one must show it.
	dropped bool
}

// Seed resets the random generator, so that what is seeded next is
// reproducible.
func (s *ShopMonkey) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng = rand.New(rand.NewPCG(uint64(seed), 0x5d0b))
}

// SetClock sets where the fake's "now" comes from (default time.Now), for
// default CreatedAt values, Touch and created appointments.
func (s *ShopMonkey) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetUnstableSkip makes list calls with skip > 0 start a few rows before or
// after where they should, as the live API does: paging with skip then loses
// and repeats rows.
func (s *ShopMonkey) SetUnstableSkip(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unstableSkip = on
}

// SetEmbedContacts says whether a customer read embeds phoneNumbers and
// emails (default true). Whether the live API does is unverified, so the
// adapter must work both ways; with it off the only way to a customer's
// phones is GET /v3/customer/{id}/phone_number.
func (s *ShopMonkey) SetEmbedContacts(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.embedContacts = on
}

// AddLocation gives apiKey access to locationID. ShopMonkey keys are made by
// an admin; here each belongs to exactly one location, so tests can prove an
// adapter never sees another shop's rows.
func (s *ShopMonkey) AddLocation(apiKey, locationID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[apiKey] = &smKey{location: locationID}
}

// Forbid makes every request with apiKey answer 403, as a key without read
// permission does.
func (s *ShopMonkey) Forbid(apiKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[apiKey]; ok {
		k.forbidden = true
		return
	}
	s.keys[apiKey] = &smKey{forbidden: true}
}

// SetDuplicatePageRate makes an order or appointment list call, with
// probability p, repeat the tail of its page within data, as the live API's
// unstable paging does; the adapter must dedupe by id. Zero turns it off.
func (s *ShopMonkey) SetDuplicatePageRate(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duplicatePageRate = p
}

// SetDropRecordRate makes an order or appointment list call, with
// probability p, silently leave one random row out of its page while
// meta.total still counts it. The row is not deleted, and the next page that
// covers it always shows it, so overlapping poll windows still find it. Zero
// turns it off.
func (s *ShopMonkey) SetDropRecordRate(p float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropRecordRate = p
}

// ShopMonkeyQuirks are the list quirks a ShopMonkey fake is reproducing, as
// the control API reads and sets them.
type ShopMonkeyQuirks struct {
	UnstableSkip      bool    `json:"unstable_skip"`
	DuplicatePageRate float64 `json:"duplicate_page_rate"`
	DropRecordRate    float64 `json:"drop_record_rate"`
}

// Quirks returns the list quirks in force.
func (s *ShopMonkey) Quirks() ShopMonkeyQuirks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ShopMonkeyQuirks{UnstableSkip: s.unstableSkip, DuplicatePageRate: s.duplicatePageRate, DropRecordRate: s.dropRecordRate}
}

// AddFault queues f after the faults already queued. The matching requests
// fail before authentication, as a gateway or rate limiter would answer,
// unless f.After says to serve them first (an appointment is then booked).
// Requests records them either way.
func (s *ShopMonkey) AddFault(f Fault) { s.faults.add(f) }

// ClearFaults removes every queued fault; the list quirks stay.
func (s *ShopMonkey) ClearFaults() { s.faults.clear() }

// Faults returns the queued faults, each Count showing the uses left.
func (s *ShopMonkey) Faults() []Fault { return s.faults.active() }

// FaultTally counts what the faults did so far.
func (s *ShopMonkey) FaultTally() FaultTally { return s.faults.counts() }

// SeedFaults resets the generators Fault.Rate and the list quirks draw from
// (DefaultFaultSeed at first), so a chaos run can be replayed. The records'
// generator is Seed's.
func (s *ShopMonkey) SeedFaults(seed int64) {
	s.faults.seed(seed)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quirkRNG = newFaultRand(seed)
}

// Requests returns a copy of every request received so far, in order.
func (s *ShopMonkey) Requests() []ShopMonkeyRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Leads returns the leads seeded into locationID (by AddLead or as raw
// orders and appointments), in the order they were added.
func (s *ShopMonkey) Leads(locationID string) []LeadRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.leads[locationID])
}

// Counts returns how many records locationID holds.
func (s *ShopMonkey) Counts(locationID string) ShopMonkeyCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := func(t ShopMonkeyTable) int {
		n := 0
		for _, r := range s.tables[t] {
			if r.loc == locationID {
				n++
			}
		}
		return n
	}
	return ShopMonkeyCounts{
		Orders:       count(ShopMonkeyOrder),
		Appointments: count(ShopMonkeyAppointment),
		Customers:    count(ShopMonkeyCustomer),
		Vehicles:     count(ShopMonkeyVehicle),
	}
}

// Record returns one stored record as the API would serve it (without
// embedded contacts), so tests can check what an adapter created.
func (s *ShopMonkey) Record(locationID string, table ShopMonkeyTable, id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(locationID, table, id)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(r.data)
	if err != nil {
		return nil, false
	}
	return b, true
}

// AddLead seeds a lead into locationID and returns where its records are.
func (s *ShopMonkey) AddLead(locationID string, spec LeadSpec) (LeadRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	kind := cmp.Or(spec.Kind, string(ShopMonkeyOrder))
	if kind != string(ShopMonkeyOrder) && kind != string(ShopMonkeyAppointment) {
		return LeadRef{}, fmt.Errorf("lead kind %q: want order or appointment", spec.Kind)
	}
	created := spec.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	updated := cmp.Or(spec.UpdatedAt, created)

	cust, err := s.seedCustomer(locationID, spec, created)
	if err != nil {
		return LeadRef{}, err
	}
	veh, err := s.seedVehicle(locationID, spec, cust.key)
	if err != nil {
		return LeadRef{}, err
	}
	name := smJoin(smString(cust.data["firstName"]), smString(cust.data["lastName"]))
	vehName := smJoin(smString(veh.data["make"]), smString(veh.data["model"]))
	if year := smInt(veh.data["year"]); year > 0 {
		vehName = smJoin(strconv.Itoa(year), vehName)
	}

	id := s.newID()
	var data map[string]any
	if kind == string(ShopMonkeyOrder) {
		number := s.nextNumber
		s.nextNumber++
		data = map[string]any{
			"id":                    id,
			"number":                number,
			"status":                cmp.Or(spec.Status, "Estimate"),
			"locationId":            locationID,
			"customerId":            cust.key,
			"vehicleId":             veh.key,
			"generatedCustomerName": name,
			"generatedVehicleName":  vehName,
			"complaint":             cmp.Or(spec.Complaint, s.complaint()),
			"totalCostCents":        5000 + s.rng.IntN(250000),
			"authorized":            spec.Authorized,
			"archived":              spec.Archived,
			"deleted":               spec.Deleted,
			"createdDate":           smTime(created),
			"updatedDate":           smTime(updated),
			"phoneNumberId":         s.primaryContact(ShopMonkeyPhoneNumber, cust.key),
			"emailId":               s.primaryContact(ShopMonkeyEmail, cust.key),
			"meta":                  map[string]any{"version": 1},
		}
	} else {
		start := spec.StartAt
		if start.IsZero() {
			day := created.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1+s.rng.IntN(5))
			start = day.Add(time.Duration(8+s.rng.IntN(9)) * time.Hour)
		}
		data = map[string]any{
			"id":                id,
			"locationId":        locationID,
			"customerId":        cust.key,
			"vehicleId":         veh.key,
			"name":              cmp.Or(spec.Complaint, s.complaint()),
			"startDate":         smTime(start),
			"endDate":           smTime(start.Add(time.Hour)),
			"color":             s.pick("aqua", "blue", "green", "orange", "purple", "red", "yellow"),
			"attributionSource": cmp.Or(spec.AttributionSource, "WorkRequestForm"),
			"confirmed":         spec.Confirmed,
			"createdDate":       smTime(created),
			"updatedDate":       smTime(updated),
			"meta":              map[string]any{"version": 1},
		}
	}
	r, err := s.insert(locationID, ShopMonkeyTable(kind), data)
	if err != nil {
		return LeadRef{}, err
	}
	return s.addLeadRef(kind, r), nil
}

// seedCustomer returns the customer spec names, creating it and its phone
// and email records unless spec reuses one.
func (s *ShopMonkey) seedCustomer(locationID string, spec LeadSpec, created time.Time) (*smRow, error) {
	if spec.CustomerID != "" {
		r, ok := s.row(locationID, ShopMonkeyCustomer, spec.CustomerID)
		if !ok {
			return nil, fmt.Errorf("customer %s is not in location %s", spec.CustomerID, locationID)
		}
		return r, nil
	}
	first := cmp.Or(spec.FirstName, s.pick("Maria", "James", "Aisha", "Chen", "Luis", "Emily", "Omar", "Grace", "Dmitri", "Priya", "Tom", "Fatima"))
	last := cmp.Or(spec.LastName, s.pick("Garcia", "Smith", "Okafor", "Nguyen", "Johnson", "Kowalski", "Haddad", "Brown", "Ivanova", "Patel", "Miller", "Rossi"))
	id := s.newID()
	cust, err := s.insert(locationID, ShopMonkeyCustomer, map[string]any{
		"id":                     id,
		"firstName":              first,
		"lastName":               last,
		"companyName":            spec.CompanyName,
		"marketingOptIn":         smTrue(spec.MarketingOptIn),
		"preferredContactMethod": cmp.Or(spec.PreferredContactMethod, "SMS"),
		"locationIds":            []string{locationID},
		"createdDate":            smTime(created),
		"updatedDate":            smTime(created),
	})
	if err != nil {
		return nil, err
	}
	if !spec.NoPhone {
		phone := spec.Phone
		if phone == "" {
			phone = fmt.Sprintf("(555) %03d-%04d", 201+s.rng.IntN(799), s.rng.IntN(10000))
		}
		if _, err := s.insert(locationID, ShopMonkeyPhoneNumber, map[string]any{
			"id": s.newID(), "customerId": id, "number": phone, "type": "Mobile", "primary": true, "optIn": smTrue(spec.OptIn),
		}); err != nil {
			return nil, err
		}
	}
	if !spec.NoEmail {
		email := spec.Email
		if email == "" {
			email = fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), s.rng.IntN(100))
		}
		if _, err := s.insert(locationID, ShopMonkeyEmail, map[string]any{
			"id": s.newID(), "customerId": id, "email": email, "primary": true, "subscribed": smTrue(spec.Subscribed),
		}); err != nil {
			return nil, err
		}
	}
	return cust, nil
}

// seedVehicle returns the vehicle spec names, creating it unless spec
// reuses one.
func (s *ShopMonkey) seedVehicle(locationID string, spec LeadSpec, customerID string) (*smRow, error) {
	if spec.MissingVehicle {
		// An id no record has; the row is not stored.
		return &smRow{key: s.newID(), loc: locationID}, nil
	}
	if spec.VehicleID != "" {
		r, ok := s.row(locationID, ShopMonkeyVehicle, spec.VehicleID)
		if !ok {
			return nil, fmt.Errorf("vehicle %s is not in location %s", spec.VehicleID, locationID)
		}
		return r, nil
	}
	models := [...][3]string{
		{"Honda", "Civic", "EX"}, {"Toyota", "Camry", "SE"}, {"Ford", "F-150", "XLT"},
		{"Chevrolet", "Silverado 1500", "LT"}, {"Subaru", "Outback", "Premium"},
		{"Nissan", "Altima", "2.5 S"}, {"BMW", "330i", "xDrive"}, {"Jeep", "Wrangler", "Sport"},
		{"Hyundai", "Elantra", "SEL"}, {"Tesla", "Model 3", "Long Range"},
	}
	m := models[s.rng.IntN(len(models))]
	if spec.Make != "" || spec.Model != "" {
		m = [3]string{spec.Make, spec.Model, spec.Submodel}
	}
	year := spec.Year
	if year == 0 {
		year = 2008 + s.rng.IntN(17)
	}
	return s.insert(locationID, ShopMonkeyVehicle, map[string]any{
		"id":           s.newID(),
		"customerId":   customerID,
		"year":         year,
		"make":         m[0],
		"model":        m[1],
		"submodel":     cmp.Or(spec.Submodel, m[2]),
		"vin":          cmp.Or(spec.VIN, s.randomString("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", 17)),
		"licensePlate": cmp.Or(spec.LicensePlate, fmt.Sprintf("%d%s%03d", 1+s.rng.IntN(9), s.randomString("ABCDEFGHJKLMNPRSTUVWXYZ", 3), s.rng.IntN(1000))),
	})
}

// AddRaw plants a record exactly as given, so tests can feed an adapter what
// a real account may hold: an order without customerId, an updatedDate that
// is not RFC 3339, a year of "unknown". raw must be a JSON object; its "id",
// when it is a string, is the record's id, otherwise the record stays without
// one and the returned key still reaches it through Record and Mutate.
// Phone numbers and emails must carry the "customerId" they belong to.
func (s *ShopMonkey) AddRaw(locationID string, table ShopMonkeyTable, raw json.RawMessage) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[table]; !ok {
		return "", fmt.Errorf("unknown table %q", table)
	}
	data, err := smNormalize(raw)
	if err != nil {
		return "", err
	}
	r, err := s.insert(locationID, table, data)
	if err != nil {
		return "", err
	}
	if table == ShopMonkeyOrder || table == ShopMonkeyAppointment {
		s.addLeadRef(string(table), r)
	}
	return r.key, nil
}

// Mutate changes a stored record in place: fn gets the record as a JSON
// object and may set, change or delete any field. Nothing else changes; call
// Touch too if the change should look like an edit in ShopMonkey.
func (s *ShopMonkey) Mutate(locationID string, table ShopMonkeyTable, id string, fn func(record map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(locationID, table, id)
	if !ok {
		return fmt.Errorf("%s %s is not in location %s", table, id, locationID)
	}
	fn(r.data)
	data, err := smNormalize(r.data)
	if err != nil {
		return fmt.Errorf("error storing %s %s: %w", table, id, err)
	}
	r.data = data
	return nil
}

// Touch records an edit of an order or appointment: updatedDate becomes now
// (always later than before) and meta.version goes up by one, as every
// change in ShopMonkey does.
func (s *ShopMonkey) Touch(locationID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.leadRow(locationID, id)
	if err != nil {
		return err
	}
	s.touch(r)
	return nil
}

// SetOrderStatus moves an order to status ("Estimate", "RepairOrder",
// "Invoice") and touches it, as a shop converting an estimate does.
func (s *ShopMonkey) SetOrderStatus(locationID, id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(locationID, ShopMonkeyOrder, id)
	if !ok {
		return fmt.Errorf("order %s is not in location %s", id, locationID)
	}
	r.data["status"] = status
	s.touch(r)
	return nil
}

func (s *ShopMonkey) leadRow(locationID, id string) (*smRow, error) {
	if r, ok := s.row(locationID, ShopMonkeyOrder, id); ok {
		return r, nil
	}
	if r, ok := s.row(locationID, ShopMonkeyAppointment, id); ok {
		return r, nil
	}
	return nil, fmt.Errorf("no order or appointment %s in location %s", id, locationID)
}

func (s *ShopMonkey) touch(r *smRow) {
	now := s.now().UTC()
	if old, err := time.Parse(time.RFC3339, smString(r.data["updatedDate"])); err == nil && !now.After(old) {
		now = old.Add(time.Millisecond)
	}
	r.data["updatedDate"] = smTime(now)
	meta, _ := r.data["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		r.data["meta"] = meta
	}
	meta["version"] = json.Number(strconv.Itoa(smInt(meta["version"]) + 1))
}

func (s *ShopMonkey) row(locationID string, table ShopMonkeyTable, id string) (*smRow, bool) {
	r, ok := s.tables[table][id]
	if !ok || r.loc != locationID {
		return nil, false
	}
	return r, true
}

func (s *ShopMonkey) insert(locationID string, table ShopMonkeyTable, data map[string]any) (*smRow, error) {
	data, err := smNormalize(data)
	if err != nil {
		return nil, fmt.Errorf("error storing %s: %w", table, err)
	}
	key, _ := data["id"].(string)
	if key == "" {
		key = s.newID()
	}
	if _, dup := s.tables[table][key]; dup {
		return nil, fmt.Errorf("%s %s already exists", table, key)
	}
	s.seq++
	r := &smRow{key: key, loc: locationID, seq: s.seq, data: data}
	s.tables[table][key] = r
	return r, nil
}

func (s *ShopMonkey) addLeadRef(kind string, r *smRow) LeadRef {
	ref := LeadRef{
		Kind:       kind,
		ID:         r.key,
		ExternalID: kind + ":" + r.key,
		LocationID: r.loc,
		CustomerID: smString(r.data["customerId"]),
		VehicleID:  smString(r.data["vehicleId"]),
	}
	s.leads[r.loc] = append(s.leads[r.loc], ref)
	return ref
}

func (s *ShopMonkey) primaryContact(table ShopMonkeyTable, customerID string) any {
	for _, r := range s.contacts(table, customerID) {
		if r.data["primary"] == true {
			return r.key
		}
	}
	return nil
}

// contacts returns a customer's phone or email records in creation order.
func (s *ShopMonkey) contacts(table ShopMonkeyTable, customerID string) []*smRow {
	var out []*smRow
	for _, r := range s.tables[table] {
		if r.data["customerId"] == customerID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *smRow) int { return a.seq - b.seq })
	return out
}

func (s *ShopMonkey) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *ShopMonkey) pick(options ...string) string { return options[s.rng.IntN(len(options))] }

func (s *ShopMonkey) randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (s *ShopMonkey) complaint() string {
	return s.pick(
		"Brakes squeal when stopping",
		"Check engine light on",
		"Oil change and tire rotation",
		"AC blows warm air",
		"Car pulls to the left",
		"Grinding noise from front wheel",
		"Battery keeps dying overnight",
		"Transmission slips between 2nd and 3rd",
		"State inspection",
		"Coolant leak under the engine",
	)
}

// ServeHTTP logs the request, then authenticates and routes it under the
// queued faults.
func (s *ShopMonkey) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read the request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.requests = append(s.requests, ShopMonkeyRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: string(body)})
	s.mu.Unlock()

	s.faults.serve(w, r, s.mux.ServeHTTP, smWriteFault)
}

// authed resolves the Bearer key to its location: 401 for a missing or
// unknown key, 403 for a forbidden one.
func (s *ShopMonkey) authed(h func(w http.ResponseWriter, r *http.Request, locationID string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		k, known := s.keys[strings.TrimSpace(key)]
		s.mu.Unlock()
		switch {
		case !ok || !known:
			smWriteError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid or missing API key")
		case k.forbidden:
			smWriteError(w, http.StatusForbidden, "FORBIDDEN", "This API key does not have permission for this operation")
		default:
			h(w, r, k.location)
		}
	}
}

func (s *ShopMonkey) handleGet(table ShopMonkeyTable) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		row, ok := s.row(loc, table, r.PathValue("id"))
		if !ok {
			smWriteError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("%s not found", table))
			return
		}
		data := row.data
		if table == ShopMonkeyCustomer && s.embedContacts {
			data = maps.Clone(data)
			for field, t := range map[string]ShopMonkeyTable{"phoneNumbers": ShopMonkeyPhoneNumber, "emails": ShopMonkeyEmail} {
				if _, planted := data[field]; planted {
					continue
				}
				list := []map[string]any{}
				for _, c := range s.contacts(t, row.key) {
					list = append(list, c.data)
				}
				data[field] = list
			}
		}
		smWriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
	}
}

func (s *ShopMonkey) handleList(table ShopMonkeyTable) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		s.serveList(w, r, loc, table, nil)
	}
}

func (s *ShopMonkey) handleContactList(table ShopMonkeyTable) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		id := r.PathValue("id")
		s.mu.Lock()
		_, ok := s.row(loc, ShopMonkeyCustomer, id)
		s.mu.Unlock()
		if !ok {
			smWriteError(w, http.StatusNotFound, "NOT_FOUND", "customer not found")
			return
		}
		s.serveList(w, r, loc, table, func(row map[string]any) bool { return row["customerId"] == id })
	}
}

// serveList answers a list call with the live API's quirks: see ShopMonkey.
func (s *ShopMonkey) serveList(w http.ResponseWriter, r *http.Request, loc string, table ShopMonkeyTable, scope func(map[string]any) bool) {
	q := r.URL.Query()
	for name := range q {
		if name != "orderBy" && strings.EqualFold(name, "orderBy") {
			smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("unknown query parameter %q (did you mean orderBy?)", name))
			return
		}
	}
	conds, err := smParseWhere(q.Get("where"))
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid where: "+err.Error())
		return
	}
	desc, err := smParseOrderBy(q.Get("orderBy"))
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid orderBy: "+err.Error())
		return
	}
	limit, err := smQueryInt(q, "limit", 100)
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	if limit == 0 || limit > 100 {
		limit = 100 // the live API caps silently, without saying so in meta
	}
	skip, err := smQueryInt(q, "skip", 0)
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []*smRow
	for _, row := range s.tables[table] {
		if row.loc != loc || (scope != nil && !scope(row.data)) || !smMatches(row.data, conds) {
			continue
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b *smRow) int {
		if desc {
			return strings.Compare(b.key, a.key)
		}
		return strings.Compare(a.key, b.key)
	})
	total := len(rows)
	off := skip
	if s.unstableSkip && skip > 0 {
		off = max(0, skip+s.rng.IntN(11)-5)
	}
	off = min(off, total)
	end := min(off+limit, total)
	served := rows[off:end]
	if scope == nil {
		// Contact lists are spared: a customer's phone left out would
		// look like a customer without one, which no poll window repairs.
		served = s.listQuirks(served)
	}
	page := make([]map[string]any, 0, len(served))
	for _, row := range served {
		page = append(page, row.data)
	}
	smWriteJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data":    page,
		"meta":    map[string]any{"hasMore": end < total, "total": total},
	})
}

// listQuirks applies the drop-record and duplicate-page quirks to the rows
// of one page. s.mu must be held.
func (s *ShopMonkey) listQuirks(page []*smRow) []*smRow {
	page = slices.Clone(page)
	if s.dropRecordRate > 0 && len(page) > 0 && s.quirkRNG.Float64() < s.dropRecordRate {
		var candidates []int
		for i, row := range page {
			if !row.dropped {
				candidates = append(candidates, i)
			}
		}
		if len(candidates) > 0 {
			i := candidates[s.quirkRNG.IntN(len(candidates))]
			page[i].dropped = true
			page = slices.Delete(page, i, i+1)
		}
	}
	for _, row := range page {
		row.dropped = false
	}
	if s.duplicatePageRate > 0 && len(page) > 0 && s.quirkRNG.Float64() < s.duplicatePageRate {
		page = append(page, page[s.quirkRNG.IntN(len(page)):]...)
	}
	return page
}

// handleCreateAppointment books an appointment. Appointments made through
// the API get attributionSource "Manual" unless the body says otherwise, so
// that a booking the orchestrator makes is not polled back as a new lead.
func (s *ShopMonkey) handleCreateAppointment(w http.ResponseWriter, r *http.Request, loc string) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read the request body")
		return
	}
	body, err := smNormalize(json.RawMessage(raw))
	if err != nil {
		smWriteError(w, http.StatusBadRequest, "BAD_REQUEST", "body must be a JSON object")
		return
	}
	invalid := func(msg string) { smWriteError(w, http.StatusBadRequest, "VALIDATION_ERROR", msg) }
	for _, f := range []string{"customerId", "name", "startDate", "endDate"} {
		if smString(body[f]) == "" {
			invalid(f + " is required")
			return
		}
	}
	start, err1 := time.Parse(time.RFC3339, smString(body["startDate"]))
	end, err2 := time.Parse(time.RFC3339, smString(body["endDate"]))
	if err1 != nil || err2 != nil || !end.After(start) {
		invalid("startDate and endDate must be ISO 8601 times with endDate after startDate")
		return
	}
	color := cmp.Or(smString(body["color"]), "blue")
	if !slices.Contains([]string{"aqua", "black", "blue", "brown", "gray", "green", "orange", "purple", "red", "yellow"}, color) {
		invalid("color must be one of aqua, black, blue, brown, gray, green, orange, purple, red, yellow")
		return
	}
	if l := smString(body["locationId"]); l != "" && l != loc {
		smWriteError(w, http.StatusForbidden, "FORBIDDEN", "This API key does not have access to location "+l)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.row(loc, ShopMonkeyCustomer, smString(body["customerId"])); !ok {
		invalid("customerId does not exist")
		return
	}
	if v := smString(body["vehicleId"]); v != "" {
		if _, ok := s.row(loc, ShopMonkeyVehicle, v); !ok {
			invalid("vehicleId does not exist")
			return
		}
	}
	now := smTime(s.now())
	data := map[string]any{
		"id":                s.newID(),
		"locationId":        loc,
		"customerId":        body["customerId"],
		"vehicleId":         body["vehicleId"],
		"name":              body["name"],
		"startDate":         smTime(start),
		"endDate":           smTime(end),
		"color":             color,
		"attributionSource": cmp.Or(smString(body["attributionSource"]), "Manual"),
		"confirmed":         body["confirmed"] == true,
		"createdDate":       now,
		"updatedDate":       now,
		"meta":              map[string]any{"version": 1},
	}
	row, err := s.insert(loc, ShopMonkeyAppointment, data)
	if err != nil {
		smWriteError(w, http.StatusInternalServerError, "INTERNAL_ERROR", err.Error())
		return
	}
	smWriteJSON(w, http.StatusOK, map[string]any{"success": true, "data": row.data})
}

// smCond is one condition of a where filter.
type smCond struct {
	field string
	op    string // eq, gt, gte, lt, lte, in
	value any
}

// smParseWhere reads a where filter. Operators are bare; a "$"-prefixed one
// (Mongo style) is dropped without a word, as the live API does, so the
// filter silently matches more rows than the caller meant.
func smParseWhere(raw string) ([]smCond, error) {
	if raw == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var where map[string]any
	if err := dec.Decode(&where); err != nil || where == nil {
		return nil, errors.New("must be a JSON object")
	}
	var conds []smCond
	for field, v := range where {
		if strings.HasPrefix(field, "$") {
			continue
		}
		ops, ok := v.(map[string]any)
		if !ok {
			conds = append(conds, smCond{field: field, op: "eq", value: v})
			continue
		}
		for op, operand := range ops {
			switch {
			case strings.HasPrefix(op, "$"):
				continue
			case op == "in":
				if _, ok := operand.([]any); !ok {
					return nil, fmt.Errorf("%s.in must be an array", field)
				}
			case op != "eq" && op != "gt" && op != "gte" && op != "lt" && op != "lte":
				return nil, fmt.Errorf("unknown operator %q on %s", op, field)
			}
			conds = append(conds, smCond{field: field, op: op, value: operand})
		}
	}
	return conds, nil
}

// smParseOrderBy reads orderBy ("id", "-id" or {"id":"desc"}) and reports
// whether rows go in descending id order. Only id sorts: the live API
// ignores orderBy on createdDate and updatedDate, and other fields are
// treated the same.
func smParseOrderBy(raw string) (desc bool, err error) {
	field, dir := raw, "asc"
	if strings.HasPrefix(raw, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil || len(m) != 1 {
			return false, errors.New(`must be a field name or {"field":"asc|desc"}`)
		}
		for f, d := range m {
			field, dir = f, strings.ToLower(fmt.Sprint(d))
		}
	} else if f, ok := strings.CutPrefix(raw, "-"); ok {
		field, dir = f, "desc"
	}
	return field == "id" && (dir == "desc" || dir == "-1"), nil
}

func smQueryInt(q map[string][]string, name string, def int) (int, error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	return n, nil
}

func smMatches(row map[string]any, conds []smCond) bool {
	for _, c := range conds {
		v := smPath(row, c.field)
		switch c.op {
		case "eq":
			if !smEqual(v, c.value) {
				return false
			}
		case "in":
			if !slices.ContainsFunc(c.value.([]any), func(o any) bool { return smEqual(v, o) }) {
				return false
			}
		default:
			n, ok := smCompare(v, c.value)
			if !ok {
				return false
			}
			if (c.op == "gt" && n <= 0) || (c.op == "gte" && n < 0) || (c.op == "lt" && n >= 0) || (c.op == "lte" && n > 0) {
				return false
			}
		}
	}
	return true
}

// smPath reads a dotted field ("meta.version").
func smPath(row map[string]any, field string) any {
	var v any = row
	for part := range strings.SplitSeq(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// smCompare orders two JSON values: times by instant when both parse as
// RFC 3339, other strings as text, numbers by value.
func smCompare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		tx, errx := time.Parse(time.RFC3339, x)
		ty, erry := time.Parse(time.RFC3339, y)
		if errx == nil && erry == nil {
			return tx.Compare(ty), true
		}
		return strings.Compare(x, y), true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return 0, false
		}
		fx, errx := x.Float64()
		fy, erry := y.Float64()
		if errx != nil || erry != nil {
			return 0, false
		}
		return cmp.Compare(fx, fy), true
	}
	return 0, false
}

func smEqual(a, b any) bool {
	if n, ok := smCompare(a, b); ok {
		return n == 0
	}
	switch a.(type) {
	case nil, bool:
		return a == b
	}
	return false
}

// smNormalize turns v into a JSON object holding only JSON values.
func smNormalize(v any) (map[string]any, error) {
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("record must be a JSON object")
	}
	return m, nil
}

func smString(v any) string {
	s, _ := v.(string)
	return s
}

func smInt(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	case int:
		return x
	}
	return 0
}

func smTrue(b *bool) bool { return b == nil || *b }

func smJoin(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), " ")
}

// smTime formats t as ShopMonkey does: UTC with milliseconds.
func smTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func smWriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"success":false,"code":"INTERNAL_ERROR","message":"cannot encode response","documentation_url":"https://shopmonkey.dev/overview/errors"}`)
	}
	b = wireText(b)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func smWriteError(w http.ResponseWriter, status int, code, message string) {
	smWriteJSON(w, status, map[string]any{
		"success":           false,
		"code":              code,
		"message":           message,
		"documentation_url": "https://shopmonkey.dev/overview/errors",
	})
}

// smWriteFault answers with f. ShopMonkey's error codes are strings, so
// f.Code is not used; the code follows the status.
func smWriteFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	if f.EmptyBody {
		w.WriteHeader(f.Status)
		return
	}
	code := "ERROR"
	switch {
	case f.Status == http.StatusTooManyRequests:
		code = "RATE_LIMIT"
	case f.Status == http.StatusServiceUnavailable:
		code = "SERVICE_UNAVAILABLE"
	case f.Status >= 500:
		code = "INTERNAL_ERROR"
	}
	smWriteError(w, f.Status, code, http.StatusText(f.Status))
}
