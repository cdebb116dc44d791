// Package fakeshopmonkey is a fake of ShopMonkey API v3 for tests, the
// demo, the benchmark and the fault harness. It is named fakeshopmonkey,
// not shopmonkey, so that a test of the real adapter (crm/shopmonkey) can
// import both without renaming one, and a call site says which it means:
// fakeshopmonkey.New() beside shopmonkey.New(...).
package fakeshopmonkey

import (
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// API is a fake of ShopMonkey API v3. It serves the real paths
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
// AddRaw or Mutate. API is safe for concurrent use.
//
// Faults (the embedded FaultQueue) make the matching requests fail before
// authentication, as a gateway or rate limiter would answer, unless
// Fault.After says to serve them first (an appointment is then booked).
// Requests records them either way. ClearFaults leaves the list quirks on.
// The embedded Clock (SetClock) is "now" for default CreatedAt values,
// Touch and created appointments.
type API struct {
	fake.FaultQueue
	fake.Clock
	// Store offers Leads, Record (without embedded contacts), Mutate and
	// AddRaw. AddRaw plants what a real account may hold: an order
	// without customerId, an updatedDate that is not RFC 3339, a year of
	// "unknown"; its "id", when a string, is the record's id, and phone
	// numbers and emails must carry the "customerId" they belong to.
	fake.Store[Table, string, string]

	mu            sync.Mutex
	rng           *rand.Rand
	keys          map[string]*keyGrant
	records       *fake.Records[Table, string, string]
	nextNumber    int
	unstableSkip  bool
	embedContacts bool
	requests      fake.RequestLog[Request]
	mux           *http.ServeMux

	// quirkRNG draws the list quirks, apart from rng so that turning them on
	// does not change the ids and names seeded afterwards.
	quirkRNG          *rand.Rand
	duplicatePageRate float64
	dropRecordRate    float64
	// dropped holds the rows the drop-record quirk left out of the last
	// page that covered them, so the next one must show them.
	dropped map[*storedRow]bool
	// created counts the appointments booked through the API.
	created map[createdKey]int
}

// storedRow is one stored ShopMonkey record: keyed by its UUID, owned by a
// location.
type storedRow = fake.Row[string, string]

// DefaultSeed seeds the random values of a new ShopMonkey, so that
// two runs of a test or of the demo see the same names, ids and vehicles.
const DefaultSeed = 1

// New returns an empty fake with no locations, contacts embedded
// in customer reads, stable skip paging and the wall clock.
func New() *API {
	s := &API{
		keys:          map[string]*keyGrant{},
		nextNumber:    1001,
		embedContacts: true,
		quirkRNG:      fake.NewFaultRand(fake.DefaultFaultSeed),
		dropped:       map[*storedRow]bool{},
		created:       map[createdKey]int{},
	}
	s.records = fake.NewRecords[Table, string, string](fake.RecordsOpts[Table, string]{
		Tables:       []Table{Order, Appointment, Customer, Vehicle, PhoneNumber, Email},
		LocationNoun: "location",
		Key: func(data map[string]any) string {
			key, _ := data["id"].(string)
			if key == "" {
				key = s.newID()
			}
			return key
		},
		LeadKinds: map[Table]string{Order: string(Order), Appointment: string(Appointment)},
		RefText:   fake.String,
	})
	s.Store = fake.NewStore(&s.mu, s.records)
	s.Seed(DefaultSeed)
	s.mux = http.NewServeMux()
	fake.HandleRecords(s.mux, "/v3/order", s.authed(s.handleList(Order)), s.authed(s.handleGet(Order)))
	fake.HandleRecords(s.mux, "/v3/appointment", s.authed(s.handleList(Appointment)), s.authed(s.handleGet(Appointment)))
	s.mux.HandleFunc("POST /v3/appointment", s.authed(s.handleCreateAppointment))
	s.mux.HandleFunc("GET /v3/customer/{id}", s.authed(s.handleGet(Customer)))
	s.mux.HandleFunc("GET /v3/customer/{id}/phone_number", s.authed(s.handleContactList(PhoneNumber)))
	s.mux.HandleFunc("GET /v3/customer/{id}/email", s.authed(s.handleContactList(Email)))
	s.mux.HandleFunc("GET /v3/vehicle/{id}", s.authed(s.handleGet(Vehicle)))
	s.mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// Table names a kind of ShopMonkey record, spelled as in its URL
// path, for the seeding and inspection methods.
type Table string

const (
	Order       Table = "order"
	Appointment Table = "appointment"
	Customer    Table = "customer"
	Vehicle     Table = "vehicle"
	PhoneNumber Table = "phone_number"
	Email       Table = "email"
)

// Request is one request the fake received, as tests assert on
// it: what the adapter asked for, never its credentials.
type Request struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	RawQuery string `json:"raw_query"`
	Body     string `json:"body,omitempty"`
}

// Counts is how many records of each kind a location holds.
type Counts struct {
	Orders       int `json:"orders"`
	Appointments int `json:"appointments"`
	Customers    int `json:"customers"`
	Vehicles     int `json:"vehicles"`
}

type keyGrant struct {
	location  string
	forbidden bool
}

// Seed resets the random generator, so that what is seeded next is
// reproducible.
func (s *API) Seed(seed int64) { fake.Set(&s.mu, &s.rng, fake.NewRand(seed, 0x5d0b)) }

// SetEmbedContacts says whether a customer read embeds phoneNumbers and
// emails (default true). Whether the live API does is unverified, so the
// adapter must work both ways; with it off the only way to a customer's
// phones is GET /v3/customer/{id}/phone_number.
func (s *API) SetEmbedContacts(on bool) { fake.Set(&s.mu, &s.embedContacts, on) }

// AddLocation gives apiKey access to locationID. ShopMonkey keys are made by
// an admin; here each belongs to exactly one location, so tests can prove an
// adapter never sees another shop's rows.
func (s *API) AddLocation(apiKey, locationID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[apiKey] = &keyGrant{location: locationID}
}

// Forbid makes every request with apiKey answer 403, as a key without read
// permission does.
func (s *API) Forbid(apiKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[apiKey]; ok {
		k.forbidden = true
		return
	}
	s.keys[apiKey] = &keyGrant{forbidden: true}
}

// SeedFaults resets the generators fake.Fault.Rate and the list quirks
// draw from (fake.DefaultFaultSeed at first), so a chaos run can be
// replayed. The records' generator is Seed's.
func (s *API) SeedFaults(seed int64) {
	s.FaultQueue.SeedFaults(seed)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quirkRNG = fake.NewFaultRand(seed)
}

// Requests returns a copy of every request received so far, in order.
func (s *API) Requests() []Request { return s.requests.All() }

// Counts returns how many records locationID holds.
func (s *API) Counts(locationID string) Counts {
	n := s.CountByTable(locationID)
	return Counts{Orders: n[Order], Appointments: n[Appointment], Customers: n[Customer], Vehicles: n[Vehicle]}
}
