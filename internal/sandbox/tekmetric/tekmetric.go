// Package faketekmetric is a fake of Tekmetric API v1 for tests, the demo,
// the benchmark and the fault harness. It is named faketekmetric, not
// tekmetric, so that a test of the real adapter (crm/tekmetric) can import
// both without renaming one, and a call site says which it means.
package faketekmetric

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// API is a fake of Tekmetric API v1. It serves the real paths
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
//   - Appointment lists take start and end, assumed to bound startTime
//     (see listQuery); PATCH /api/v1/appointments/{id} moves one, DELETE
//     deletes it (kept with a deletedDate); an unknown or deleted one is
//     a 404 in Tekmetric's error shape.
//   - Each application may make SetRateLimit requests a minute
//     (DefaultRateLimit, as the real sandbox host allows); beyond
//     that, 429 with an empty body and no Retry-After.
//
// It keeps records as JSON objects in fake.Records, so that tests can
// plant malformed ones with AddRaw or Mutate; it is safe for concurrent
// use. An injected fault (AddFault, from the embedded FaultQueue) answers
// before the token is checked, as Tekmetric's gateway would, unless its
// After says to serve the request first; a 429 answers as Tekmetric's own
// do, with an empty body and Retry-After only when the fault sets one.
// SetClock (from the embedded Clock) moves "now" for default CreatedAt
// values, Touch, created appointments and the rate limit.
type API struct {
	mu        sync.Mutex
	rng       *rand.Rand
	clients   map[string]*application
	tokens    map[string]string // access token → client id
	shops     map[int64]*time.Location
	records   *fake.Records[Table, int64, int64]
	nextID    int64
	roNumbers map[int64]int
	rateLimit int
	hits      map[string][]time.Time
	created   map[createdKey]int
	requests  fake.RequestLog[Request]
	mux       *http.ServeMux

	fake.FaultQueue
	fake.Clock
	// Store offers Leads (their ids are the integer ids in decimal),
	// Record and Mutate; AddRaw is the API's own, which wants the shop to
	// exist.
	fake.Store[Table, int64, int64]
}

// storedRow is one stored Tekmetric record: keyed by its integer id, owned
// by a shop. Vehicles carry no shopId in Tekmetric; the fake keeps the
// shop beside the record.
type storedRow = fake.Row[int64, int64]

// DefaultSeed seeds the random values of a new Tekmetric, so that
// two runs of a test or of the demo see the same names and vehicles.
const DefaultSeed = 1

// DefaultRateLimit is the requests a minute an application may
// make to a new Tekmetric fake: the limit of Tekmetric's sandbox host
// (production allows 600).
const DefaultRateLimit = 300

// Table names a kind of Tekmetric record, spelled as in its URL
// path, for the seeding and inspection methods.
type Table string

const (
	RepairOrders Table = "repair-orders"
	Appointments Table = "appointments"
	Customers    Table = "customers"
	Vehicles     Table = "vehicles"
)

// Tekmetric lead kinds, as fake.LeadRef.Kind and LeadSpec.Kind spell
// them; a lead's ExternalID is "<kind>:<id>".
const (
	RepairOrder = "repair-order"
	Appointment = "appointment"
)

// Request is one request the fake received, as tests assert on it:
// what the adapter asked for, never its credentials.
type Request struct {
	// At is when the request arrived, by the wall clock (not the fake's
	// settable one): rate limits are measured in real time.
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	RawQuery string    `json:"raw_query"`
	Body     string    `json:"body,omitempty"`
}

// Counts is how many records of each kind a shop holds.
type Counts struct {
	RepairOrders int `json:"repair_orders"`
	Appointments int `json:"appointments"`
	Customers    int `json:"customers"`
	Vehicles     int `json:"vehicles"`
}

// New returns an empty fake with no shops, the default rate limit
// and the wall clock.
func New() *API {
	s := &API{
		clients:   map[string]*application{},
		tokens:    map[string]string{},
		shops:     map[int64]*time.Location{},
		nextID:    1000,
		roNumbers: map[int64]int{},
		rateLimit: DefaultRateLimit,
		hits:      map[string][]time.Time{},
		created:   map[createdKey]int{},
	}
	s.records = fake.NewRecords[Table, int64, int64](fake.RecordsOpts[Table, int64]{
		Tables:       []Table{RepairOrders, Appointments, Customers, Vehicles},
		LocationNoun: "shop",
		Key:          s.keyOf,
		LeadKinds:    map[Table]string{RepairOrders: RepairOrder, Appointments: Appointment},
		RefText:      idText,
	})
	s.Store = fake.NewStore(&s.mu, s.records)
	s.Seed(DefaultSeed)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /api/v1/oauth/token", s.handleToken)
	fake.HandleRecords(s.mux, "/api/v1/repair-orders", s.authed(s.handleList(RepairOrders)), s.authed(s.handleGet(RepairOrders)))
	fake.HandleRecords(s.mux, "/api/v1/appointments", s.authed(s.handleList(Appointments)), s.authed(s.handleGet(Appointments)))
	s.mux.HandleFunc("POST /api/v1/appointments", s.authed(s.handleCreateAppointment))
	s.mux.HandleFunc("PATCH /api/v1/appointments/{id}", s.authed(s.handlePatchAppointment))
	s.mux.HandleFunc("DELETE /api/v1/appointments/{id}", s.authed(s.handleDeleteAppointment))
	s.mux.HandleFunc("GET /api/v1/customers/{id}", s.authed(s.handleGet(Customers)))
	s.mux.HandleFunc("GET /api/v1/vehicles/{id}", s.authed(s.handleGet(Vehicles)))
	s.mux.HandleFunc("/", s.authed(func(w http.ResponseWriter, r *http.Request, _ *application) {
		writeError(w, http.StatusNotFound, "No route for "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// Seed resets the random generator, so that what is seeded next is
// reproducible.
func (s *API) Seed(seed int64) { fake.Set(&s.mu, &s.rng, fake.NewRand(seed, 0x7e4e)) }

// StartIDsAfter makes every id handed out from now on larger than id. A
// new fake starts at 1001, so a sandbox restarted on the same database
// handed out the ids of its last run's records, and the new leads upserted
// onto the old rows (a second `make demo` texted no Tekmetric lead).
func (s *API) StartIDsAfter(id int64) {
	fake.Update(&s.mu, &s.nextID, func(next int64) int64 { return max(next, id) })
}

// Requests returns a copy of every request received so far, in order.
func (s *API) Requests() []Request { return s.requests.All() }

// Counts returns how many records shopID holds.
func (s *API) Counts(shopID int64) Counts {
	n := s.CountByTable(shopID)
	return Counts{RepairOrders: n[RepairOrders], Appointments: n[Appointments], Customers: n[Customers], Vehicles: n[Vehicles]}
}

// newID hands out integer ids from one sequence for every table, so that
// ids never collide across tables in the fake (in Tekmetric they may).
func (s *API) newID() int64 {
	s.nextID++
	return s.nextID
}

// keyOf is a record's key: its "id" when that is a positive integer, else
// a new id. Later ids never meet a planted one.
func (s *API) keyOf(data map[string]any) int64 {
	key := int64(0)
	if n, ok := data["id"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v > 0 {
			key = v
		}
	}
	if key == 0 {
		key = s.newID()
	}
	s.nextID = max(s.nextID, key)
	return key
}
