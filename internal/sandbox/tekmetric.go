package sandbox

import (
	"bytes"
	"cmp"
	crand "crypto/rand"
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

// Tekmetric is a fake of Tekmetric API v1. It serves the real paths
// (/api/v1/oauth/token, /api/v1/repair-orders, /api/v1/appointments,
// /api/v1/customers/{id}, /api/v1/vehicles/{id}) with the real shapes and
// reproduces the documented quirks, because the adapter is shaped by them:
//
//   - OAuth2 client credentials: POST /api/v1/oauth/token with HTTP Basic
//     client_id:client_secret and grant_type=client_credentials answers
//     {"access_token","token_type":"bearer","scope":"1 2"}, the scope
//     listing the shops the application may read. A token lasts until
//     revoked (RevokeTokens); asking again returns the same live token.
//   - Every API call needs "Authorization: Bearer <token>": a missing,
//     unknown or revoked token is a 401 with an empty body. A shop outside
//     the token's scope is a 403 insufficient_scope.
//   - Lists are Spring pages ({"content","totalPages","totalElements",
//     "last","number","size",...}), page from 0, size capped at 100
//     without a word; updatedDateEnd is inclusive.
//   - Ids are integers; money is in cents.
//   - Appointment times (startTime, endTime, createdDate, updatedDate) and
//     a job's authorizedDate are written without a zone offset, in the
//     shop's wall-clock time, so each shop keeps a time zone; repair
//     orders, customers and vehicles write UTC with a "Z".
//   - Combining updatedDate filters with deletedDate filters returns only
//     the deleted records (the updated filter is dropped); repair order
//     lists without deletedDate filters return active records only, while
//     appointment lists include deleted ones unless includeDeleted=false.
//   - Each application may make SetRateLimit requests a minute
//     (TekmetricDefaultRateLimit, as the real sandbox host allows); beyond
//     that, 429 with an empty body and no Retry-After.
//
// Records are kept as JSON objects, so tests can plant malformed ones with
// AddRaw or Mutate. Tekmetric is safe for concurrent use.
type Tekmetric struct {
	mu        sync.Mutex
	rng       *rand.Rand
	now       func() time.Time
	clients   map[string]*tmClient
	tokens    map[string]string // access token → client id
	shops     map[int64]*time.Location
	tables    map[TekmetricTable]map[int64]*tmRow
	leads     map[int64][]LeadRef
	nextID    int64
	roNumbers map[int64]int
	rateLimit int
	hits      map[string][]time.Time
	requests  []TekmetricRequest
	faults    faults
	mux       *http.ServeMux
}

// TekmetricDefaultSeed seeds the random values of a new Tekmetric, so that
// two runs of a test or of the demo see the same names and vehicles.
const TekmetricDefaultSeed = 1

// TekmetricDefaultRateLimit is the requests a minute an application may
// make to a new Tekmetric fake: the limit of Tekmetric's sandbox host
// (production allows 600).
const TekmetricDefaultRateLimit = 300

// TekmetricTable names a kind of Tekmetric record, spelled as in its URL
// path, for the seeding and inspection methods.
type TekmetricTable string

const (
	TekmetricRepairOrders TekmetricTable = "repair-orders"
	TekmetricAppointments TekmetricTable = "appointments"
	TekmetricCustomers    TekmetricTable = "customers"
	TekmetricVehicles     TekmetricTable = "vehicles"
)

// Tekmetric lead kinds, as LeadRef.Kind and TekmetricLeadSpec.Kind spell
// them; a lead's ExternalID is "<kind>:<id>".
const (
	TekmetricRepairOrder = "repair-order"
	TekmetricAppointment = "appointment"
)

// TekmetricRequest is one request the fake received, as tests assert on it:
// what the adapter asked for, never its credentials.
type TekmetricRequest struct {
	// At is when the request arrived, by the wall clock (not the fake's
	// settable one): rate limits are measured in real time.
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	RawQuery string    `json:"raw_query"`
	Body     string    `json:"body,omitempty"`
}

// TekmetricCounts is how many records of each kind a shop holds.
type TekmetricCounts struct {
	RepairOrders int `json:"repair_orders"`
	Appointments int `json:"appointments"`
	Customers    int `json:"customers"`
	Vehicles     int `json:"vehicles"`
}

// TekmetricLeadSpec describes a lead to seed: an estimate (a repair order)
// or a booking request (an appointment with a lead source) with its
// customer and vehicle. Every empty field gets a realistic random value
// from the fake's seeded generator; the JSON tags let cmd/sandbox take a
// TekmetricLeadSpec as a request body.
type TekmetricLeadSpec struct {
	// Kind is "repair-order" (the default) or "appointment".
	Kind string `json:"kind,omitempty"`

	// CustomerID reuses a customer of the shop (a returning customer); the
	// name, phone, email and consent fields are then ignored.
	CustomerID int64  `json:"customer_id,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	// Phone is stored exactly as given; generated numbers look like
	// Tekmetric's: "555-201-3344".
	Phone   string `json:"phone,omitempty"`
	NoPhone bool   `json:"no_phone,omitempty"`
	Email   string `json:"email,omitempty"`
	NoEmail bool   `json:"no_email,omitempty"`
	// OKForMarketing is Tekmetric's only consent flag; nil means true.
	OKForMarketing *bool `json:"ok_for_marketing,omitempty"`

	// VehicleID reuses a vehicle of the shop; the vehicle fields are then
	// ignored.
	VehicleID    int64  `json:"vehicle_id,omitempty"`
	Year         int    `json:"year,omitempty"`
	Make         string `json:"make,omitempty"`
	Model        string `json:"model,omitempty"`
	SubModel     string `json:"sub_model,omitempty"`
	VIN          string `json:"vin,omitempty"`
	LicensePlate string `json:"license_plate,omitempty"`
	// MissingVehicle makes the lead name a vehicle the shop has no record
	// of (deleted, or merged into another), so a fetch of it is a 404.
	MissingVehicle bool `json:"missing_vehicle,omitempty"`

	// Concern is the repair order's customer concern or the appointment's
	// description; Title is the appointment's title.
	Concern string `json:"concern,omitempty"`
	Title   string `json:"title,omitempty"`

	// StatusID of a repair order: 1 Estimate (default) to 7 Deleted.
	StatusID int `json:"status_id,omitempty"`
	// Authorized marks the repair order's job as approved by the customer.
	Authorized bool `json:"authorized,omitempty"`

	// LeadSource of an appointment defaults to "Website"; NoLeadSource
	// makes a staff-made appointment, which is not a lead.
	LeadSource        string    `json:"lead_source,omitempty"`
	NoLeadSource      bool      `json:"no_lead_source,omitempty"`
	AppointmentStatus string    `json:"appointment_status,omitempty"`
	Arrived           bool      `json:"arrived,omitempty"`
	StartAt           time.Time `json:"start_at,omitzero"`

	// CreatedAt defaults to now, UpdatedAt to CreatedAt. DeletedAt, when
	// set, deletes the record (a repair order moves to status 7).
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// tmClient is a partner application: its secret, the shops granted to it
// and its live token ("" when it has none).
type tmClient struct {
	secret string
	shops  map[int64]bool
	token  string
}

// tmRow is one stored record. data holds JSON values only (json.Number for
// numbers), as ShopMonkey's rows do.
type tmRow struct {
	key  int64 // the id, or a generated key for a planted row without one
	shop int64
	data map[string]any
}

// NewTekmetric returns an empty fake with no shops, the default rate limit
// and the wall clock.
func NewTekmetric() *Tekmetric {
	s := &Tekmetric{
		now:       time.Now,
		clients:   map[string]*tmClient{},
		tokens:    map[string]string{},
		shops:     map[int64]*time.Location{},
		tables:    map[TekmetricTable]map[int64]*tmRow{},
		leads:     map[int64][]LeadRef{},
		nextID:    1000,
		roNumbers: map[int64]int{},
		rateLimit: TekmetricDefaultRateLimit,
		hits:      map[string][]time.Time{},
	}
	s.Seed(TekmetricDefaultSeed)
	for _, t := range []TekmetricTable{TekmetricRepairOrders, TekmetricAppointments, TekmetricCustomers, TekmetricVehicles} {
		s.tables[t] = map[int64]*tmRow{}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /api/v1/oauth/token", s.handleToken)
	s.mux.HandleFunc("GET /api/v1/repair-orders", s.authed(s.handleList(TekmetricRepairOrders)))
	s.mux.HandleFunc("GET /api/v1/repair-orders/{id}", s.authed(s.handleGet(TekmetricRepairOrders)))
	s.mux.HandleFunc("GET /api/v1/appointments", s.authed(s.handleList(TekmetricAppointments)))
	s.mux.HandleFunc("GET /api/v1/appointments/{id}", s.authed(s.handleGet(TekmetricAppointments)))
	s.mux.HandleFunc("POST /api/v1/appointments", s.authed(s.handleCreateAppointment))
	s.mux.HandleFunc("GET /api/v1/customers/{id}", s.authed(s.handleGet(TekmetricCustomers)))
	s.mux.HandleFunc("GET /api/v1/vehicles/{id}", s.authed(s.handleGet(TekmetricVehicles)))
	s.mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request, _ *tmClient) {
		tmWriteError(w, http.StatusNotFound, "No route for "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// Seed resets the random generator, so that what is seeded next is
// reproducible.
func (s *Tekmetric) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng = rand.New(rand.NewPCG(uint64(seed), 0x7e4e))
}

// SetClock sets where the fake's "now" comes from (default time.Now), for
// default CreatedAt values, Touch, created appointments and the rate limit.
func (s *Tekmetric) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetRateLimit sets the requests a minute each application may make before
// it gets 429s; zero or less turns the limit off.
func (s *Tekmetric) SetRateLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = max(perMinute, 0)
}

// RateLimit returns the requests a minute each application may make (0:
// no limit).
func (s *Tekmetric) RateLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimit
}

// AddShop creates shopID with its time zone (an IANA name; empty means
// UTC) unless it exists, and grants it to the partner application clientID,
// creating the application with clientSecret unless it exists. Calling it
// again for another shop widens the application's scope ("1 2"); a token
// already issued covers the new shop at once, as Tekmetric's do.
func (s *Tekmetric) AddShop(shopID int64, timeZone, clientID, clientSecret string) error {
	if shopID <= 0 {
		return fmt.Errorf("shop id must be positive, got %d", shopID)
	}
	if clientID == "" || clientSecret == "" || strings.Contains(clientID, ":") {
		return errors.New("client id and secret are required, and the id cannot hold a colon")
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", timeZone, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.shops[shopID]; ok && old.String() != loc.String() {
		return fmt.Errorf("shop %d already exists in time zone %s", shopID, old)
	}
	c, ok := s.clients[clientID]
	if ok && c.secret != clientSecret {
		return fmt.Errorf("client %s already exists with another secret (see RotateSecret)", clientID)
	}
	if !ok {
		c = &tmClient{secret: clientSecret, shops: map[int64]bool{}}
		s.clients[clientID] = c
	}
	s.shops[shopID] = loc
	c.shops[shopID] = true
	return nil
}

// RotateSecret gives clientID a new secret. Its token stays valid, as
// tokens do until revoked; the old secret no longer gets one.
func (s *Tekmetric) RotateSecret(clientID, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || secret == "" {
		return fmt.Errorf("no client %s, or an empty secret", clientID)
	}
	c.secret = secret
	return nil
}

// RevokeTokens revokes the live token of clientID, so that its next API
// call is a 401 and the application must ask for a new token. It returns
// how many tokens it revoked.
func (s *Tekmetric) RevokeTokens(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || c.token == "" {
		return 0
	}
	delete(s.tokens, c.token)
	c.token = ""
	return 1
}

// AddFault queues f after the faults already queued. The matching requests
// fail before authentication, as a gateway or rate limiter would answer,
// unless f.After says to serve them first. A 429 fault answers as
// Tekmetric's do: an empty body, and Retry-After only when f.RetryAfter
// sets one.
func (s *Tekmetric) AddFault(f Fault) { s.faults.add(f) }

// ClearFaults removes every queued fault.
func (s *Tekmetric) ClearFaults() { s.faults.clear() }

// Faults returns the queued faults, each Count showing the uses left.
func (s *Tekmetric) Faults() []Fault { return s.faults.active() }

// FaultTally counts what the faults did so far.
func (s *Tekmetric) FaultTally() FaultTally { return s.faults.counts() }

// SeedFaults resets the generator Fault.Rate draws from.
func (s *Tekmetric) SeedFaults(seed int64) { s.faults.seed(seed) }

// Requests returns a copy of every request received so far, in order.
func (s *Tekmetric) Requests() []TekmetricRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Leads returns the leads seeded into shopID (by AddLead or as raw repair
// orders and appointments), in the order they were added. Their ids are
// the integer ids in decimal.
func (s *Tekmetric) Leads(shopID int64) []LeadRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.leads[shopID])
}

// Counts returns how many records shopID holds.
func (s *Tekmetric) Counts(shopID int64) TekmetricCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := func(t TekmetricTable) int {
		n := 0
		for _, r := range s.tables[t] {
			if r.shop == shopID {
				n++
			}
		}
		return n
	}
	return TekmetricCounts{
		RepairOrders: count(TekmetricRepairOrders),
		Appointments: count(TekmetricAppointments),
		Customers:    count(TekmetricCustomers),
		Vehicles:     count(TekmetricVehicles),
	}
}

// Record returns one stored record as the API would serve it, so tests can
// check what an adapter created.
func (s *Tekmetric) Record(shopID int64, table TekmetricTable, id int64) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(shopID, table, id)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(r.data)
	if err != nil {
		return nil, false
	}
	return b, true
}

// AddLead seeds a lead into shopID and returns where its records are.
func (s *Tekmetric) AddLead(shopID int64, spec TekmetricLeadSpec) (LeadRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.shops[shopID]
	if !ok {
		return LeadRef{}, fmt.Errorf("no shop %d (AddShop first)", shopID)
	}
	kind := cmp.Or(spec.Kind, TekmetricRepairOrder)
	if kind != TekmetricRepairOrder && kind != TekmetricAppointment {
		return LeadRef{}, fmt.Errorf("lead kind %q: want repair-order or appointment", spec.Kind)
	}
	if spec.StatusID < 0 || spec.StatusID > 7 {
		return LeadRef{}, fmt.Errorf("status id %d: want 1 to 7", spec.StatusID)
	}
	created := spec.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	updated := cmp.Or(spec.UpdatedAt, created)

	cust, err := s.seedCustomer(shopID, spec, created)
	if err != nil {
		return LeadRef{}, err
	}
	veh, err := s.seedVehicle(shopID, spec, cust.key, created)
	if err != nil {
		return LeadRef{}, err
	}
	concern := cmp.Or(spec.Concern, s.concern())
	id := s.newID()
	var data map[string]any
	table := TekmetricRepairOrders
	if kind == TekmetricRepairOrder {
		status := cmp.Or(spec.StatusID, 1)
		var deleted any
		if !spec.DeletedAt.IsZero() {
			status, deleted = 7, tmUTC(spec.DeletedAt)
		}
		var authorized, authorizedDate any
		if spec.Authorized {
			authorized, authorizedDate = true, tmLocal(updated, loc)
		}
		s.roNumbers[shopID]++
		labor := 5000 + s.rng.IntN(100000)
		parts := s.rng.IntN(150000)
		data = map[string]any{
			"id":                   id,
			"repairOrderNumber":    s.roNumbers[shopID],
			"shopId":               shopID,
			"repairOrderStatus":    tmStatus(status),
			"color":                "#1786E8",
			"appointmentStartTime": nil,
			"customerId":           cust.key,
			"technicianId":         nil,
			"serviceWriterId":      nil,
			"vehicleId":            veh.key,
			"milesIn":              nil,
			"milesOut":             nil,
			"completedDate":        nil,
			"postedDate":           nil,
			"laborSales":           labor,
			"partsSales":           parts,
			"subletSales":          0,
			"discountTotal":        0,
			"feeTotal":             0,
			"taxes":                parts / 12,
			"amountPaid":           0,
			"totalSales":           labor + parts + parts/12,
			"jobs": []map[string]any{{
				"id": s.newID(), "repairOrderId": id, "vehicleId": veh.key, "customerId": cust.key,
				"name": concern, "authorized": authorized, "authorizedDate": authorizedDate, "selected": true,
				"laborTotal": labor, "partsTotal": parts, "createdDate": tmUTC(created), "updatedDate": tmUTC(updated),
			}},
			"customerConcerns": []map[string]any{{"id": s.newID(), "concern": concern, "techComment": nil}},
			"createdDate":      tmUTC(created),
			"updatedDate":      tmUTC(updated),
			"deletedDate":      deleted,
		}
	} else {
		table = TekmetricAppointments
		start := spec.StartAt
		if start.IsZero() {
			day := created.In(loc)
			day = time.Date(day.Year(), day.Month(), day.Day()+1+s.rng.IntN(5), 8+s.rng.IntN(9), 0, 0, 0, loc)
			start = day
		}
		var source, deleted, arrived any
		if !spec.NoLeadSource {
			source = cmp.Or(spec.LeadSource, "Website")
		}
		if !spec.DeletedAt.IsZero() {
			deleted = tmLocal(spec.DeletedAt, loc)
		}
		if spec.Arrived {
			arrived = true
		}
		data = map[string]any{
			"id":                id,
			"shopId":            shopID,
			"customerId":        cust.key,
			"vehicleId":         veh.key,
			"startTime":         tmLocal(start, loc),
			"endTime":           tmLocal(start.Add(time.Hour), loc),
			"title":             cmp.Or(spec.Title, "Online Appointment"),
			"description":       concern,
			"color":             "navy",
			"arrived":           arrived,
			"appointmentStatus": cmp.Or(spec.AppointmentStatus, "NONE"),
			"createdDate":       tmLocal(created, loc),
			"updatedDate":       tmLocal(updated, loc),
			"deletedDate":       deleted,
			"leadSource":        source,
			"rideOption":        nil,
			"dropoffTime":       nil,
			"pickupTime":        nil,
			"appointmentOption": nil,
		}
	}
	r, err := s.insert(shopID, table, data)
	if err != nil {
		return LeadRef{}, err
	}
	return s.addLeadRef(table, r), nil
}

// seedCustomer returns the customer spec names, creating it unless spec
// reuses one.
func (s *Tekmetric) seedCustomer(shopID int64, spec TekmetricLeadSpec, created time.Time) (*tmRow, error) {
	if spec.CustomerID != 0 {
		r, ok := s.row(shopID, TekmetricCustomers, spec.CustomerID)
		if !ok {
			return nil, fmt.Errorf("customer %d is not in shop %d", spec.CustomerID, shopID)
		}
		return r, nil
	}
	first := cmp.Or(spec.FirstName, s.pick("Ava", "Noah", "Sofia", "Mateo", "Zara", "Ethan", "Mia", "Kenji", "Leila", "Owen"))
	last := cmp.Or(spec.LastName, s.pick("Hernandez", "Walker", "Adeyemi", "Tran", "Novak", "Schmidt", "Khan", "Murphy", "Silva", "Young"))
	var phones []map[string]any
	if !spec.NoPhone {
		number := cmp.Or(spec.Phone, fmt.Sprintf("555-%03d-%04d", 201+s.rng.IntN(799), s.rng.IntN(10000)))
		phones = append(phones, map[string]any{"id": s.newID(), "number": number, "type": "Cell", "primary": true})
	}
	var email any
	if !spec.NoEmail {
		email = cmp.Or(spec.Email, fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), s.rng.IntN(100)))
	}
	return s.insert(shopID, TekmetricCustomers, map[string]any{
		"id":               s.newID(),
		"firstName":        first,
		"lastName":         last,
		"email":            email,
		"phone":            phones,
		"customerType":     map[string]any{"id": 1, "code": "PERSON", "name": "Person"},
		"contactFirstName": nil,
		"contactLastName":  nil,
		"shopId":           shopID,
		"okForMarketing":   smTrue(spec.OKForMarketing),
		"createdDate":      tmUTC(created),
		"updatedDate":      tmUTC(created),
		"deletedDate":      nil,
	})
}

// seedVehicle returns the vehicle spec names, creating it unless spec
// reuses one. Vehicles carry no shopId in Tekmetric; the fake keeps the
// shop beside the record.
func (s *Tekmetric) seedVehicle(shopID int64, spec TekmetricLeadSpec, customerID int64, created time.Time) (*tmRow, error) {
	if spec.MissingVehicle {
		// An id no record has; the row is not stored.
		return &tmRow{key: s.newID(), shop: shopID}, nil
	}
	if spec.VehicleID != 0 {
		r, ok := s.row(shopID, TekmetricVehicles, spec.VehicleID)
		if !ok {
			return nil, fmt.Errorf("vehicle %d is not in shop %d", spec.VehicleID, shopID)
		}
		return r, nil
	}
	model := s.pick("Toyota RAV4 XLE", "Honda Accord Sport", "Ford Escape SE", "Chevrolet Equinox LT", "Mazda CX-5 Touring",
		"Kia Sorento EX", "Volkswagen Jetta S", "Ram 1500 Big Horn", "Lexus RX 350 Base", "GMC Sierra SLE")
	parts := strings.SplitN(model, " ", 3)
	if spec.Make != "" || spec.Model != "" {
		parts = []string{spec.Make, spec.Model, spec.SubModel}
	}
	const vinAlphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	vin := make([]byte, 17)
	for i := range vin {
		vin[i] = vinAlphabet[s.rng.IntN(len(vinAlphabet))]
	}
	return s.insert(shopID, TekmetricVehicles, map[string]any{
		"id":           s.newID(),
		"customerId":   customerID,
		"year":         cmp.Or(spec.Year, 2008+s.rng.IntN(17)),
		"make":         parts[0],
		"model":        parts[1],
		"subModel":     cmp.Or(spec.SubModel, parts[2]),
		"licensePlate": cmp.Or(spec.LicensePlate, fmt.Sprintf("TX%05d", s.rng.IntN(100000))),
		"state":        "TX",
		"vin":          cmp.Or(spec.VIN, string(vin)),
		"createdDate":  tmUTC(created),
		"updatedDate":  tmUTC(created),
		"deletedDate":  nil,
	})
}

// AddRaw plants a record exactly as given, so tests can feed an adapter what
// a real account may hold: a repair order without customerId, an id that
// is a string, an updatedDate that is not a time. raw must be a JSON
// object; its "id", when it is a positive integer, is the record's id,
// otherwise the record keeps what it has and the returned key still reaches
// it through Record and Mutate (and GET by that key).
func (s *Tekmetric) AddRaw(shopID int64, table TekmetricTable, raw json.RawMessage) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[table]; !ok {
		return 0, fmt.Errorf("unknown table %q", table)
	}
	if _, ok := s.shops[shopID]; !ok {
		return 0, fmt.Errorf("no shop %d (AddShop first)", shopID)
	}
	data, err := smNormalize(raw)
	if err != nil {
		return 0, err
	}
	r, err := s.insert(shopID, table, data)
	if err != nil {
		return 0, err
	}
	if table == TekmetricRepairOrders || table == TekmetricAppointments {
		s.addLeadRef(table, r)
	}
	return r.key, nil
}

// Mutate changes a stored record in place: fn gets the record as a JSON
// object and may set, change or delete any field. Nothing else changes; call
// Touch too if the change should look like an edit in Tekmetric.
func (s *Tekmetric) Mutate(shopID int64, table TekmetricTable, id int64, fn func(record map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(shopID, table, id)
	if !ok {
		return fmt.Errorf("%s %d is not in shop %d", table, id, shopID)
	}
	fn(r.data)
	data, err := smNormalize(r.data)
	if err != nil {
		return fmt.Errorf("error storing %s %d: %w", table, id, err)
	}
	r.data = data
	return nil
}

// Touch records an edit of a record: updatedDate becomes now, always later
// than before, written as the table writes times.
func (s *Tekmetric) Touch(shopID int64, table TekmetricTable, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(shopID, table, id)
	if !ok {
		return fmt.Errorf("%s %d is not in shop %d", table, id, shopID)
	}
	s.touch(table, r)
	return nil
}

// SetRepairOrderStatus moves a repair order to statusID (1 Estimate, 2
// Work-in-Progress, ...) and touches it, as a shop starting the work of an
// estimate does.
func (s *Tekmetric) SetRepairOrderStatus(shopID, id int64, statusID int) error {
	if statusID < 1 || statusID > 7 {
		return fmt.Errorf("status id %d: want 1 to 7", statusID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.row(shopID, TekmetricRepairOrders, id)
	if !ok {
		return fmt.Errorf("repair order %d is not in shop %d", id, shopID)
	}
	data, err := smNormalize(tmStatus(statusID))
	if err != nil {
		return err
	}
	r.data["repairOrderStatus"] = data
	s.touch(TekmetricRepairOrders, r)
	return nil
}

func (s *Tekmetric) touch(table TekmetricTable, r *tmRow) {
	loc := s.shops[r.shop]
	now := s.now()
	if old, err := tmParseTime(smString(r.data["updatedDate"]), loc); err == nil && !now.After(old) {
		now = old.Add(time.Millisecond)
	}
	r.data["updatedDate"] = tmFormat(table, now, loc)
}

func (s *Tekmetric) row(shopID int64, table TekmetricTable, id int64) (*tmRow, bool) {
	r, ok := s.tables[table][id]
	if !ok || r.shop != shopID {
		return nil, false
	}
	return r, true
}

func (s *Tekmetric) insert(shopID int64, table TekmetricTable, data map[string]any) (*tmRow, error) {
	data, err := smNormalize(data)
	if err != nil {
		return nil, fmt.Errorf("error storing %s: %w", table, err)
	}
	key := int64(0)
	if n, ok := data["id"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v > 0 {
			key = v
		}
	}
	if key == 0 {
		key = s.newID()
	}
	if _, dup := s.tables[table][key]; dup {
		return nil, fmt.Errorf("%s %d already exists", table, key)
	}
	s.nextID = max(s.nextID, key) // later ids never meet a planted one
	r := &tmRow{key: key, shop: shopID, data: data}
	s.tables[table][key] = r
	return r, nil
}

func (s *Tekmetric) addLeadRef(table TekmetricTable, r *tmRow) LeadRef {
	kind := TekmetricRepairOrder
	if table == TekmetricAppointments {
		kind = TekmetricAppointment
	}
	id := strconv.FormatInt(r.key, 10)
	ref := LeadRef{
		Kind:       kind,
		ID:         id,
		ExternalID: kind + ":" + id,
		LocationID: strconv.FormatInt(r.shop, 10),
		CustomerID: tmIDText(r.data["customerId"]),
		VehicleID:  tmIDText(r.data["vehicleId"]),
	}
	s.leads[r.shop] = append(s.leads[r.shop], ref)
	return ref
}

// newID hands out integer ids from one sequence for every table, so that
// ids never collide across tables in the fake (in Tekmetric they may).
func (s *Tekmetric) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Tekmetric) pick(options ...string) string { return options[s.rng.IntN(len(options))] }

func (s *Tekmetric) concern() string {
	return s.pick(
		"Squeaking noise when braking",
		"Check engine light is on",
		"Oil change and multi-point inspection",
		"AC not cooling",
		"Vibration at highway speed",
		"Car will not start in the morning",
		"Replace windshield wipers",
		"Steering wheel off center",
		"Annual state inspection",
		"Smell of burning oil",
	)
}

// ServeHTTP logs the request, then authenticates and routes it under the
// queued faults.
func (s *Tekmetric) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		tmWriteError(w, http.StatusBadRequest, "Cannot read the request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.requests = append(s.requests, TekmetricRequest{At: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: string(body)})
	s.mu.Unlock()

	s.faults.serve(w, r, s.mux.ServeHTTP, tmWriteFault)
}

// handleToken is the OAuth2 token endpoint: client credentials in HTTP
// Basic auth, grant_type=client_credentials in a form body.
func (s *Tekmetric) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		tmWriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "cannot read the form body"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.clients[id]
	if !ok || !known || c.secret != secret {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth2/client"`)
		tmWriteJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Bad client credentials"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		tmWriteJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "OAuth 2.0 Parameter: grant_type"})
		return
	}
	if c.token == "" {
		c.token = s.newToken()
		s.tokens[c.token] = id
	}
	tmWriteJSON(w, http.StatusOK, map[string]any{"access_token": c.token, "token_type": "bearer", "scope": tmScope(c.shops)})
}

// newToken makes a random UUID-like access token, as Tekmetric's look.
// It does not draw from the fake's seeded generator, so that asking for a
// token does not change the names and vehicles seeded after it.
func (s *Tekmetric) newToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// authed resolves the bearer token to its application: 401 with an empty
// body for a missing, unknown or revoked token, then 429 with an empty body
// beyond the application's rate limit.
func (s *Tekmetric) authed(h func(w http.ResponseWriter, r *http.Request, c *tmClient)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		id, known := s.tokens[strings.TrimSpace(token)]
		limited := known && ok && !s.allow(id)
		var c *tmClient
		if known {
			// A copy of the scope, since h reads it unlocked.
			c = &tmClient{shops: maps.Clone(s.clients[id].shops)}
		}
		s.mu.Unlock()
		switch {
		case !ok || !known:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case limited:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			h(w, r, c)
		}
	}
}

// allow counts one request of client id against the rate limit and reports
// whether it is within it. Refused requests are not counted. s.mu must be
// held.
func (s *Tekmetric) allow(id string) bool {
	if s.rateLimit <= 0 {
		return true
	}
	now := s.now()
	recent := slices.DeleteFunc(s.hits[id], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	if len(recent) >= s.rateLimit {
		s.hits[id] = recent
		return false
	}
	s.hits[id] = append(recent, now)
	return true
}

// scopeError answers a request for a shop the token may not read.
func scopeError(w http.ResponseWriter, c *tmClient) {
	tmWriteJSON(w, http.StatusForbidden, map[string]any{
		"error": "insufficient_scope", "error_description": "Insufficient scope for this resource", "scope": tmScope(c.shops),
	})
}

func (s *Tekmetric) handleGet(table TekmetricTable) func(http.ResponseWriter, *http.Request, *tmClient) {
	return func(w http.ResponseWriter, r *http.Request, c *tmClient) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			tmWriteError(w, http.StatusBadRequest, fmt.Sprintf("Failed to convert value %q to required type 'java.lang.Long'", r.PathValue("id")))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		row, ok := s.tables[table][id]
		switch {
		case !ok:
			tmWriteError(w, http.StatusNotFound, tmNoun(table)+" not found")
		case !c.shops[row.shop]:
			scopeError(w, c)
		default:
			tmWriteJSON(w, http.StatusOK, row.data)
		}
	}
}

// tmListQuery is a list call's filters, read and checked.
type tmListQuery struct {
	page, size       int
	shops            map[int64]bool
	loc              *time.Location
	updatedFrom      time.Time
	updatedTo        time.Time
	deletedFrom      time.Time
	deletedTo        time.Time
	byDeleted        bool
	includeDeleted   bool
	statuses         []int64
	customerID       int64
	descending       bool
	hasUpdatedFilter bool
}

// readListQuery checks a list call's parameters; an error is a 400, and a
// shop outside the token's scope is errScope.
func (s *Tekmetric) readListQuery(r *http.Request, table TekmetricTable, c *tmClient) (tmListQuery, error) {
	q := r.URL.Query()
	lq := tmListQuery{size: 10, shops: c.shops, loc: time.UTC, includeDeleted: true}
	var err error
	intParam := func(name string, dst *int) {
		if v := q.Get(name); v != "" && err == nil {
			n, e := strconv.Atoi(v)
			if e != nil || n < 0 {
				err = fmt.Errorf("%s must be a non-negative integer, got %q", name, v)
			}
			*dst = n
		}
	}
	intParam("page", &lq.page)
	intParam("size", &lq.size)
	if err != nil {
		return lq, err
	}
	if lq.size == 0 {
		lq.size = 10
	}
	lq.size = min(lq.size, 100) // capped without a word, as Tekmetric does
	if v := q.Get("shop"); v != "" {
		shop, e := strconv.ParseInt(v, 10, 64)
		if e != nil {
			return lq, fmt.Errorf("shop must be an integer, got %q", v)
		}
		if !c.shops[shop] {
			return lq, errScope
		}
		lq.shops = map[int64]bool{shop: true}
		s.mu.Lock()
		lq.loc = s.shops[shop]
		s.mu.Unlock()
	}
	date := func(name string, dst *time.Time) {
		if v := q.Get(name); v != "" && err == nil {
			t, e := tmParseQueryTime(v, lq.loc)
			if e != nil {
				err = fmt.Errorf("%s: cannot read %q as a date", name, v)
			}
			*dst = t
		}
	}
	date("updatedDateStart", &lq.updatedFrom)
	date("updatedDateEnd", &lq.updatedTo)
	date("deletedDateStart", &lq.deletedFrom)
	date("deletedDateEnd", &lq.deletedTo)
	if err != nil {
		return lq, err
	}
	lq.hasUpdatedFilter = q.Has("updatedDateStart") || q.Has("updatedDateEnd")
	lq.byDeleted = q.Has("deletedDateStart") || q.Has("deletedDateEnd")
	if v := q.Get("includeDeleted"); v != "" && table == TekmetricAppointments {
		b, e := strconv.ParseBool(v)
		if e != nil {
			return lq, fmt.Errorf("includeDeleted must be true or false, got %q", v)
		}
		lq.includeDeleted = b
	}
	for _, v := range q["repairOrderStatusId"] {
		for part := range strings.SplitSeq(v, ",") {
			n, e := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if e != nil {
				return lq, fmt.Errorf("repairOrderStatusId must be integers, got %q", v)
			}
			lq.statuses = append(lq.statuses, n)
		}
	}
	if v := q.Get("customerId"); v != "" {
		if lq.customerID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return lq, fmt.Errorf("customerId must be an integer, got %q", v)
		}
	}
	lq.descending = strings.EqualFold(q.Get("sortDirection"), "DESC")
	return lq, nil
}

// errScope is what readListQuery returns for a shop outside the scope.
var errScope = errors.New("shop outside the token's scope")

// matches reports whether row passes the list's filters, with the
// deleted-date quirk: any deletedDate filter turns the list into one of
// deleted records and drops the updatedDate filter.
func (lq tmListQuery) matches(table TekmetricTable, row *tmRow, loc *time.Location) bool {
	if !lq.shops[row.shop] {
		return false
	}
	deleted, _ := tmParseTime(smString(row.data["deletedDate"]), loc)
	switch {
	case lq.byDeleted:
		if deleted.IsZero() || !tmInRange(deleted, lq.deletedFrom, lq.deletedTo) {
			return false
		}
	case !deleted.IsZero() && (table == TekmetricRepairOrders || !lq.includeDeleted):
		return false
	case lq.hasUpdatedFilter:
		updated, err := tmParseTime(smString(row.data["updatedDate"]), loc)
		if err != nil || !tmInRange(updated, lq.updatedFrom, lq.updatedTo) {
			return false
		}
	}
	if len(lq.statuses) > 0 {
		status, _ := row.data["repairOrderStatus"].(map[string]any)
		if !slices.Contains(lq.statuses, tmInt64(status["id"])) {
			return false
		}
	}
	return lq.customerID == 0 || tmInt64(row.data["customerId"]) == lq.customerID
}

func (s *Tekmetric) handleList(table TekmetricTable) func(http.ResponseWriter, *http.Request, *tmClient) {
	return func(w http.ResponseWriter, r *http.Request, c *tmClient) {
		lq, err := s.readListQuery(r, table, c)
		switch {
		case errors.Is(err, errScope):
			scopeError(w, c)
			return
		case err != nil:
			tmWriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		var rows []*tmRow
		for _, row := range s.tables[table] {
			if lq.matches(table, row, s.shops[row.shop]) {
				rows = append(rows, row)
			}
		}
		slices.SortFunc(rows, func(a, b *tmRow) int {
			if lq.descending {
				return cmp.Compare(b.key, a.key)
			}
			return cmp.Compare(a.key, b.key)
		})
		total := len(rows)
		from := min(lq.page*lq.size, total)
		to := min(from+lq.size, total)
		content := make([]map[string]any, 0, to-from)
		for _, row := range rows[from:to] {
			content = append(content, row.data)
		}
		totalPages := (total + lq.size - 1) / lq.size
		sort := map[string]any{"sorted": true, "unsorted": false, "empty": false}
		tmWriteJSON(w, http.StatusOK, map[string]any{
			"content": content,
			"pageable": map[string]any{
				"sort": sort, "offset": from, "pageSize": lq.size, "pageNumber": lq.page, "paged": true, "unpaged": false,
			},
			"totalPages":       totalPages,
			"totalElements":    total,
			"last":             lq.page >= totalPages-1,
			"size":             lq.size,
			"number":           lq.page,
			"first":            lq.page == 0,
			"sort":             sort,
			"numberOfElements": len(content),
			"empty":            len(content) == 0,
		})
	}
}

// handleCreateAppointment books an appointment. Appointments made through
// the API have no leadSource, so a booking the orchestrator makes is not
// polled back as a new lead.
func (s *Tekmetric) handleCreateAppointment(w http.ResponseWriter, r *http.Request, c *tmClient) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		tmWriteError(w, http.StatusBadRequest, "Cannot read the request body")
		return
	}
	body, err := smNormalize(json.RawMessage(raw))
	if err != nil {
		tmWriteError(w, http.StatusBadRequest, "Body must be a JSON object")
		return
	}
	shopID := tmInt64(body["shopId"])
	if shopID <= 0 {
		tmWriteError(w, http.StatusBadRequest, "shopId is required")
		return
	}
	if !c.shops[shopID] {
		scopeError(w, c)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.shops[shopID]
	invalid := func(msg string) { tmWriteError(w, http.StatusBadRequest, msg) }
	if strings.TrimSpace(smString(body["title"])) == "" {
		invalid("title is required")
		return
	}
	start, err1 := tmParseTime(smString(body["startTime"]), loc)
	end, err2 := tmParseTime(smString(body["endTime"]), loc)
	if err1 != nil || err2 != nil || !end.After(start) {
		invalid("startTime and endTime are required ISO 8601 date-times, endTime after startTime")
		return
	}
	color := cmp.Or(smString(body["color"]), "navy")
	if !slices.Contains([]string{"red", "pink", "yellow", "orange", "light green", "green", "blue", "navy", "lavender", "purple"}, color) {
		invalid("color must be one of red, pink, yellow, orange, light green, green, blue, navy, lavender, purple")
		return
	}
	customerID, vehicleID := tmInt64(body["customerId"]), tmInt64(body["vehicleId"])
	if vehicleID != 0 && customerID == 0 {
		invalid("customerId is required with vehicleId")
		return
	}
	if _, ok := s.row(shopID, TekmetricCustomers, customerID); customerID != 0 && !ok {
		invalid("customerId must belong to shopId")
		return
	}
	if v, ok := s.row(shopID, TekmetricVehicles, vehicleID); vehicleID != 0 && (!ok || tmInt64(v.data["customerId"]) != customerID) {
		invalid("vehicleId must belong to customerId")
		return
	}
	now := tmLocal(s.now(), loc)
	data := map[string]any{
		"id":                s.newID(),
		"shopId":            shopID,
		"customerId":        tmOptional(customerID),
		"vehicleId":         tmOptional(vehicleID),
		"startTime":         tmLocal(start, loc),
		"endTime":           tmLocal(end, loc),
		"title":             body["title"],
		"description":       body["description"],
		"color":             color,
		"arrived":           nil,
		"appointmentStatus": "NONE",
		"createdDate":       now,
		"updatedDate":       now,
		"deletedDate":       nil,
		"leadSource":        nil,
		"rideOption":        nil,
		"dropoffTime":       nil,
		"pickupTime":        nil,
		"appointmentOption": nil,
	}
	row, err := s.insert(shopID, TekmetricAppointments, data)
	if err != nil {
		tmWriteError(w, http.StatusInternalServerError, err.Error())
		return
	}
	tmWriteJSON(w, http.StatusOK, map[string]any{"type": "SUCCESS", "message": "Appointment Saved", "data": row.key, "details": map[string]any{}})
}

// tmStatus is a repairOrderStatus object.
func tmStatus(id int) map[string]any {
	names := [...][2]string{
		{"ESTIMATE", "Estimate"}, {"WORKINPROGRESS", "Work In Progress"}, {"COMPLETE", "Complete"},
		{"SAVEDFORLATER", "Saved For Later"}, {"POSTED", "Posted"}, {"ACCOUNTSRECEIVABLE", "Accounts Receivable"}, {"DELETED", "Deleted"},
	}
	n := names[min(max(id, 1), len(names))-1]
	return map[string]any{"id": id, "code": n[0], "name": n[1]}
}

// tmScope writes shop ids as a token's scope: "1 2".
func tmScope(shops map[int64]bool) string {
	ids := make([]int64, 0, len(shops))
	for id := range shops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}

func tmNoun(table TekmetricTable) string {
	switch table {
	case TekmetricRepairOrders:
		return "Repair order"
	case TekmetricAppointments:
		return "Appointment"
	case TekmetricCustomers:
		return "Customer"
	}
	return "Vehicle"
}

// tmUTC writes t as Tekmetric writes most times: UTC with a "Z",
// milliseconds only when there are some.
func tmUTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z") }

// tmLocal writes t as Tekmetric writes appointment times: the shop's
// wall-clock time without any offset.
func tmLocal(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.999")
}

// tmFormat writes t as table writes its record times.
func tmFormat(table TekmetricTable, t time.Time, loc *time.Location) string {
	if table == TekmetricAppointments {
		return tmLocal(t, loc)
	}
	return tmUTC(t)
}

// tmParseTime reads a stored time: with an offset ("Z", "-06:00" or
// "-0600") as it says, without one in the shop's zone.
func tmParseTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc)
}

// tmParseQueryTime reads a date filter: a date-time with or without an
// offset, or a date (its midnight in the shop's zone).
func tmParseQueryTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := tmParseTime(s, loc); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// tmInRange reports whether t is in [from, to], either bound unset
// (zero) meaning open: Tekmetric's date filters include both ends.
func tmInRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

func tmInt64(v any) int64 {
	n, _ := v.(json.Number)
	i, _ := n.Int64()
	return i
}

func tmIDText(v any) string {
	if n := tmInt64(v); n > 0 {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

func tmOptional(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func tmWriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"type":"ERROR","message":"cannot encode response","data":null,"details":{}}`)
	}
	b = wireText(b)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// tmWriteError answers with Tekmetric's API error shape.
func tmWriteError(w http.ResponseWriter, status int, message string) {
	tmWriteJSON(w, status, map[string]any{"type": "ERROR", "message": message, "data": nil, "details": map[string]any{}})
}

// tmWriteFault answers with f. A 429 has an empty body, as Tekmetric's
// always do; Retry-After is sent only when f sets one (Tekmetric never
// does).
func tmWriteFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	if f.EmptyBody || f.Status == http.StatusTooManyRequests {
		w.WriteHeader(f.Status)
		return
	}
	tmWriteError(w, f.Status, http.StatusText(f.Status))
}
