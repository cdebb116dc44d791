package fake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// LeadRef identifies a lead seeded into a CRM fake and its records,
// including the ExternalID the adapter reports for it. Both CRM fakes
// return it, so the simulator and the tools that seed leads handle either
// CRM's leads alike.
type LeadRef struct {
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	LocationID string `json:"location_id"`
	CustomerID string `json:"customer_id,omitempty"`
	VehicleID  string `json:"vehicle_id,omitempty"`
}

// Row is one stored record of a CRM fake. Data holds JSON values only (see
// Normalize), so that filters compare planted and generated rows alike.
type Row[K cmp.Ordered, L comparable] struct {
	// Key is the record's id, or a generated key for a planted record
	// without a usable one.
	Key K
	// Loc is the ShopMonkey location or the Tekmetric shop that owns the
	// record; a credential of another never sees it.
	Loc L
	// Seq numbers the inserts, so rows can be read in the order they were
	// added.
	Seq  int
	Data map[string]any
}

// RecordsOpts says how a CRM fake keys its records and refers to them.
type RecordsOpts[T ~string, K cmp.Ordered] struct {
	// Tables are the kinds of record the fake keeps.
	Tables []T
	// LocationNoun names an owner in errors: "location" or "shop".
	LocationNoun string
	// Key returns the key of a record about to be stored, making a new one
	// when the record has no usable id.
	Key func(data map[string]any) K
	// LeadKinds maps the tables whose records are leads to the LeadRef.Kind
	// of their leads; a lead's ExternalID is "<kind>:<id>".
	LeadKinds map[T]string
	// RefText writes a record's customerId or vehicleId as a LeadRef holds
	// it ("" for none).
	RefText func(v any) string
}

// Records is the record keeping both CRM fakes share: tables of JSON
// objects keyed by id, each row owned by one location, and the leads
// seeded into each location. T names a table, K is the id type (ShopMonkey
// uses UUID strings, Tekmetric integers) and L the owner's.
//
// Records does no locking: the fake that holds it guards it with its own
// mutex, which also covers the fake's other state.
type Records[T ~string, K cmp.Ordered, L comparable] struct {
	opts   RecordsOpts[T, K]
	tables map[T]map[K]*Row[K, L]
	leads  map[L][]LeadRef
	seq    int
}

// NewRecords returns empty tables.
func NewRecords[T ~string, K cmp.Ordered, L comparable](opts RecordsOpts[T, K]) *Records[T, K, L] {
	rs := &Records[T, K, L]{opts: opts, tables: map[T]map[K]*Row[K, L]{}, leads: map[L][]LeadRef{}}
	for _, t := range opts.Tables {
		rs.tables[t] = map[K]*Row[K, L]{}
	}
	return rs
}

// HasTable reports whether table is one the fake keeps.
func (rs *Records[T, K, L]) HasTable(table T) bool {
	_, ok := rs.tables[table]
	return ok
}

// Get returns the row of table with id when loc owns it.
func (rs *Records[T, K, L]) Get(loc L, table T, id K) (*Row[K, L], bool) {
	r, ok := rs.tables[table][id]
	if !ok || r.Loc != loc {
		return nil, false
	}
	return r, true
}

// Lookup returns the row of table with id whoever owns it, so a fake can
// tell a record that does not exist from one of another owner.
func (rs *Records[T, K, L]) Lookup(table T, id K) (*Row[K, L], bool) {
	r, ok := rs.tables[table][id]
	return r, ok
}

// Insert stores data as a new row of table owned by loc.
func (rs *Records[T, K, L]) Insert(loc L, table T, data map[string]any) (*Row[K, L], error) {
	data, err := Normalize(data)
	if err != nil {
		return nil, fmt.Errorf("error storing %s: %w", table, err)
	}
	key := rs.opts.Key(data)
	if _, dup := rs.tables[table][key]; dup {
		return nil, fmt.Errorf("%s %v already exists", table, key)
	}
	rs.seq++
	r := &Row[K, L]{Key: key, Loc: loc, Seq: rs.seq, Data: data}
	rs.tables[table][key] = r
	return r, nil
}

// AddRaw plants raw, a JSON object, exactly as given, so tests can feed an
// adapter what a real account may hold; a lead table's row is also listed
// among loc's leads. It returns the row's key, which reaches it even when
// raw has no usable id.
func (rs *Records[T, K, L]) AddRaw(loc L, table T, raw json.RawMessage) (K, error) {
	var zero K
	if !rs.HasTable(table) {
		return zero, fmt.Errorf("unknown table %q", table)
	}
	data, err := Normalize(raw)
	if err != nil {
		return zero, err
	}
	r, err := rs.Insert(loc, table, data)
	if err != nil {
		return zero, err
	}
	if _, lead := rs.opts.LeadKinds[table]; lead {
		rs.AddLeadRef(table, r)
	}
	return r.Key, nil
}

// Mutate changes a stored record in place: fn gets the record as a JSON
// object and may set, change or delete any field.
func (rs *Records[T, K, L]) Mutate(loc L, table T, id K, fn func(record map[string]any)) error {
	r, ok := rs.Get(loc, table, id)
	if !ok {
		return fmt.Errorf("%s %v is not in %s %v", table, id, rs.opts.LocationNoun, loc)
	}
	fn(r.Data)
	data, err := Normalize(r.Data)
	if err != nil {
		return fmt.Errorf("error storing %s %v: %w", table, id, err)
	}
	r.Data = data
	return nil
}

// Record returns one stored record encoded as JSON.
func (rs *Records[T, K, L]) Record(loc L, table T, id K) (json.RawMessage, bool) {
	r, ok := rs.Get(loc, table, id)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(r.Data)
	if err != nil {
		return nil, false
	}
	return b, true
}

// Count returns how many rows of each table loc owns.
func (rs *Records[T, K, L]) Count(loc L) map[T]int {
	n := map[T]int{}
	for t, rows := range rs.tables {
		for _, r := range rows {
			if r.Loc == loc {
				n[t]++
			}
		}
	}
	return n
}

// Select returns the rows of table keep accepts, in id order (descending
// with desc): the order both CRMs list records in.
func (rs *Records[T, K, L]) Select(table T, keep func(*Row[K, L]) bool, desc bool) []*Row[K, L] {
	var rows []*Row[K, L]
	for _, r := range rs.tables[table] {
		if keep(r) {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *Row[K, L]) int {
		if desc {
			return cmp.Compare(b.Key, a.Key)
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return rows
}

// AddLeadRef lists r, a row of a lead table, among its owner's leads and
// returns its LeadRef.
func (rs *Records[T, K, L]) AddLeadRef(table T, r *Row[K, L]) LeadRef {
	kind := rs.opts.LeadKinds[table]
	id := fmt.Sprint(r.Key)
	ref := LeadRef{
		Kind:       kind,
		ID:         id,
		ExternalID: kind + ":" + id,
		LocationID: fmt.Sprint(r.Loc),
		CustomerID: rs.opts.RefText(r.Data["customerId"]),
		VehicleID:  rs.opts.RefText(r.Data["vehicleId"]),
	}
	rs.leads[r.Loc] = append(rs.leads[r.Loc], ref)
	return ref
}

// Leads returns the leads seeded into loc, in the order they were added.
func (rs *Records[T, K, L]) Leads(loc L) []LeadRef {
	return slices.Clone(rs.leads[loc])
}
