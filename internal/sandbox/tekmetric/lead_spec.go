package faketekmetric

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// LeadSpec describes a lead to seed: an estimate (a repair order)
// or a booking request (an appointment with a lead source) with its
// customer and vehicle. Every empty field gets a realistic random value
// from the fake's seeded generator; the JSON tags let cmd/sandbox take a
// LeadSpec as a request body.
type LeadSpec struct {
	// Kind is "repair-order" (the default) or "appointment".
	Kind string `json:"kind,omitempty"`

	// CustomerID reuses a customer of the shop (a returning customer); the
	// name, phone, email and consent fields are then ignored.
	CustomerID int64  `json:"customer_id,omitempty"`
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	// Phone is stored exactly as given; generated numbers look like
	// Tekmetric's: "312-201-3344".
	Phone   string `json:"phone,omitempty"`
	NoPhone bool   `json:"no_phone,omitempty"`
	Email   string `json:"email,omitempty"`
	NoEmail bool   `json:"no_email,omitempty"`
	// OKForMarketing is Tekmetric's only consent flag; nil means true.
	OKForMarketing *bool `json:"ok_for_marketing,omitempty"`
	// State is the state of the customer's address, stored as given
	// ("TX", "Texas", "Tejas"), so a test can plant one the orchestrator
	// cannot read. Empty: the customer has no address (null), as for a
	// customer the shop entered by name and phone only. With a state, the
	// street, city and zip are the fake's own.
	State string `json:"state,omitempty"`

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

// AddLead seeds a lead into shopID and returns where its records are.
func (s *API) AddLead(shopID int64, spec LeadSpec) (fake.LeadRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.shops[shopID]
	if !ok {
		return fake.LeadRef{}, fmt.Errorf("no shop %d (AddShop first)", shopID)
	}
	kind := cmp.Or(spec.Kind, RepairOrder)
	if kind != RepairOrder && kind != Appointment {
		return fake.LeadRef{}, fmt.Errorf("lead kind %q: want repair-order or appointment", spec.Kind)
	}
	if spec.StatusID < 0 || spec.StatusID > 7 {
		return fake.LeadRef{}, fmt.Errorf("status id %d: want 1 to 7", spec.StatusID)
	}
	created, updated := fake.SeedTimes(s.Now, spec.CreatedAt, spec.UpdatedAt)
	table, record := RepairOrders, s.repairOrderData
	if kind == Appointment {
		table, record = Appointments, s.appointmentData
	}
	return s.records.InsertLead(shopID, fake.LeadSeed[Table, int64, int64]{
		Table:    table,
		Customer: func() (*storedRow, error) { return s.seedCustomer(shopID, spec, created) },
		Vehicle:  func(cust *storedRow) (*storedRow, error) { return s.seedVehicle(shopID, spec, cust.Key, created) },
		Record: func(cust, veh *storedRow) map[string]any {
			// The concern is drawn before the id, as it always was: a
			// seeded fake repeats its records.
			concern := cmp.Or(spec.Concern, s.pick(concerns...))
			return record(shopID, loc, spec, s.newID(), cust.Key, veh.Key, concern, created, updated)
		},
	})
}

// repairOrderData is a new estimate's record, as Tekmetric serves repair
// orders: times in UTC, money in cents.
func (s *API) repairOrderData(shopID int64, loc *time.Location, spec LeadSpec, id, customerID, vehicleID int64, concern string, created, updated time.Time) map[string]any {
	status := cmp.Or(spec.StatusID, 1)
	var deleted any
	if !spec.DeletedAt.IsZero() {
		status, deleted = 7, formatUTC(spec.DeletedAt)
	}
	var authorized, authorizedDate any
	if spec.Authorized {
		authorized, authorizedDate = true, formatLocal(updated, loc)
	}
	s.roNumbers[shopID]++
	labor := 5000 + s.rng.IntN(100000)
	parts := s.rng.IntN(150000)
	return map[string]any{
		"id":                   id,
		"repairOrderNumber":    s.roNumbers[shopID],
		"shopId":               shopID,
		"repairOrderStatus":    statusObject(status),
		"color":                "#1786E8",
		"appointmentStartTime": nil,
		"customerId":           customerID,
		"technicianId":         nil,
		"serviceWriterId":      nil,
		"vehicleId":            vehicleID,
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
			"id": s.newID(), "repairOrderId": id, "vehicleId": vehicleID, "customerId": customerID,
			"name": concern, "authorized": authorized, "authorizedDate": authorizedDate, "selected": true,
			"laborTotal": labor, "partsTotal": parts, "createdDate": formatUTC(created), "updatedDate": formatUTC(updated),
		}},
		"customerConcerns": []map[string]any{{"id": s.newID(), "concern": concern, "techComment": nil}},
		"createdDate":      formatUTC(created),
		"updatedDate":      formatUTC(updated),
		"deletedDate":      deleted,
	}
}

// appointmentData is a new booking request's record, as Tekmetric serves
// appointments: times in the shop's wall-clock time without an offset.
func (s *API) appointmentData(shopID int64, loc *time.Location, spec LeadSpec, id, customerID, vehicleID int64, concern string, created, updated time.Time) map[string]any {
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
		deleted = formatLocal(spec.DeletedAt, loc)
	}
	if spec.Arrived {
		arrived = true
	}
	return map[string]any{
		"id":                id,
		"shopId":            shopID,
		"customerId":        customerID,
		"vehicleId":         vehicleID,
		"startTime":         formatLocal(start, loc),
		"endTime":           formatLocal(start.Add(time.Hour), loc),
		"title":             cmp.Or(spec.Title, "Online Appointment"),
		"description":       concern,
		"color":             "navy",
		"arrived":           arrived,
		"appointmentStatus": cmp.Or(spec.AppointmentStatus, "NONE"),
		"createdDate":       formatLocal(created, loc),
		"updatedDate":       formatLocal(updated, loc),
		"deletedDate":       deleted,
		"leadSource":        source,
		"rideOption":        nil,
		"dropoffTime":       nil,
		"pickupTime":        nil,
		"appointmentOption": nil,
	}
}

// seedCustomer returns the customer spec names, creating it unless spec
// reuses one.
func (s *API) seedCustomer(shopID int64, spec LeadSpec, created time.Time) (*storedRow, error) {
	if spec.CustomerID != 0 {
		r, ok := s.records.Get(shopID, Customers, spec.CustomerID)
		if !ok {
			return nil, fmt.Errorf("customer %d is not in shop %d", spec.CustomerID, shopID)
		}
		return r, nil
	}
	first := cmp.Or(spec.FirstName, s.pick("Ava", "Noah", "Sofia", "Mateo", "Zara", "Ethan", "Mia", "Kenji", "Leila", "Owen"))
	last := cmp.Or(spec.LastName, s.pick("Hernandez", "Walker", "Adeyemi", "Tran", "Novak", "Schmidt", "Khan", "Murphy", "Silva", "Young"))
	var phones []map[string]any
	if !spec.NoPhone {
		number := cmp.Or(spec.Phone, fmt.Sprintf("312-%03d-%04d", 201+s.rng.IntN(799), s.rng.IntN(10000)))
		phones = append(phones, map[string]any{"id": s.newID(), "number": number, "type": "Cell", "primary": true})
	}
	var email any
	if !spec.NoEmail {
		email = cmp.Or(spec.Email, fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), s.rng.IntN(100)))
	}
	return s.records.Insert(shopID, Customers, map[string]any{
		"id":               s.newID(),
		"firstName":        first,
		"lastName":         last,
		"email":            email,
		"phone":            phones,
		"customerType":     map[string]any{"id": 1, "code": "PERSON", "name": "Person"},
		"contactFirstName": nil,
		"contactLastName":  nil,
		"shopId":           shopID,
		"okForMarketing":   fake.OrTrue(spec.OKForMarketing),
		"address":          s.addressData(spec),
		"createdDate":      formatUTC(created),
		"updatedDate":      formatUTC(created),
		"deletedDate":      nil,
	})
}

// addressData is a customer's address as Tekmetric serves it, an object
// with its own id, or nil (null) without a state.
func (s *API) addressData(spec LeadSpec) any {
	if spec.State == "" {
		return nil
	}
	street := fmt.Sprintf("%d %s", 100+s.rng.IntN(9900), s.pick("Main St", "Oak Ave", "Elm St", "Lakeview Dr", "Cedar Rd"))
	city := s.pick("Springfield", "Riverside", "Fairview", "Georgetown", "Franklin")
	zip := fmt.Sprintf("%05d", 10000+s.rng.IntN(89999))
	return map[string]any{
		"id":            s.newID(),
		"address1":      street,
		"address2":      "",
		"city":          city,
		"state":         spec.State,
		"zip":           zip,
		"streetAddress": street,
		"fullAddress":   fmt.Sprintf("%s, %s, %s %s", street, city, spec.State, zip),
	}
}

// seedVehicle returns the vehicle spec names, creating it unless spec
// reuses one. Vehicles carry no shopId in Tekmetric; the fake keeps the
// shop beside the record.
func (s *API) seedVehicle(shopID int64, spec LeadSpec, customerID int64, created time.Time) (*storedRow, error) {
	if spec.MissingVehicle {
		// An id no record has; the row is not stored.
		return &storedRow{Key: s.newID(), Loc: shopID}, nil
	}
	if spec.VehicleID != 0 {
		r, ok := s.records.Get(shopID, Vehicles, spec.VehicleID)
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
	vin := fake.RandomString(s.rng, "ABCDEFGHJKLMNPRSTUVWXYZ0123456789", 17)
	return s.records.Insert(shopID, Vehicles, map[string]any{
		"id":           s.newID(),
		"customerId":   customerID,
		"year":         cmp.Or(spec.Year, 2008+s.rng.IntN(17)),
		"make":         parts[0],
		"model":        parts[1],
		"subModel":     cmp.Or(spec.SubModel, parts[2]),
		"licensePlate": cmp.Or(spec.LicensePlate, fmt.Sprintf("TX%05d", s.rng.IntN(100000))),
		"state":        "TX",
		"vin":          cmp.Or(spec.VIN, vin),
		"createdDate":  formatUTC(created),
		"updatedDate":  formatUTC(created),
		"deletedDate":  nil,
	})
}

func (s *API) pick(options ...string) string { return fake.Pick(s.rng, options...) }

// concerns are what a seeded lead's customer says is wrong.
var concerns = []string{
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
}

// statusObject is a repairOrderStatus object.
func statusObject(id int) map[string]any {
	names := [...][2]string{
		{"ESTIMATE", "Estimate"}, {"WORKINPROGRESS", "Work In Progress"}, {"COMPLETE", "Complete"},
		{"SAVEDFORLATER", "Saved For Later"}, {"POSTED", "Posted"}, {"ACCOUNTSRECEIVABLE", "Accounts Receivable"}, {"DELETED", "Deleted"},
	}
	n := names[min(max(id, 1), len(names))-1]
	return map[string]any{"id": id, "code": n[0], "name": n[1]}
}
