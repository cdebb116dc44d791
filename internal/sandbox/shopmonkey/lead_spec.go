package fakeshopmonkey

import (
	"cmp"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

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
	// generated numbers look like ShopMonkey's: "(312) 201-3344".
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
	// State and Country are the customer's address, stored as given
	// ("TX", "Texas", "Tejas"; "US", "Canada"), so a test can plant one
	// the orchestrator cannot read. With neither the customer has no
	// address: every address field is null, as for a customer the shop
	// entered by name and phone only. With a state, the street, city and
	// postal code are the fake's own.
	State   string `json:"state,omitempty"`
	Country string `json:"country,omitempty"`

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
	StartAt           time.Time `json:"start_at,omitzero"`
	Confirmed         bool      `json:"confirmed,omitempty"`

	// CreatedAt defaults to now, UpdatedAt to CreatedAt.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// AddLead seeds a lead into locationID and returns where its records are.
func (s *API) AddLead(locationID string, spec LeadSpec) (fake.LeadRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	kind := cmp.Or(spec.Kind, string(Order))
	if kind != string(Order) && kind != string(Appointment) {
		return fake.LeadRef{}, fmt.Errorf("lead kind %q: want order or appointment", spec.Kind)
	}
	created, updated := fake.SeedTimes(s.Now, spec.CreatedAt, spec.UpdatedAt)
	return s.records.InsertLead(locationID, fake.LeadSeed[Table, string, string]{
		Table:    Table(kind),
		Customer: func() (*storedRow, error) { return s.seedCustomer(locationID, spec, created) },
		Vehicle:  func(cust *storedRow) (*storedRow, error) { return s.seedVehicle(locationID, spec, cust.Key) },
		Record: func(cust, veh *storedRow) map[string]any {
			id := s.newID()
			if kind == string(Order) {
				return s.orderData(locationID, spec, id, cust, veh, created, updated)
			}
			return s.appointmentData(locationID, spec, id, cust.Key, veh.Key, created, updated)
		},
	})
}

// orderData is a new estimate's record, as ShopMonkey serves orders.
func (s *API) orderData(locationID string, spec LeadSpec, id string, cust, veh *storedRow, created, updated time.Time) map[string]any {
	name := fake.JoinWords(fake.String(cust.Data["firstName"]), fake.String(cust.Data["lastName"]))
	vehName := fake.JoinWords(fake.String(veh.Data["make"]), fake.String(veh.Data["model"]))
	if year := fake.Int(veh.Data["year"]); year > 0 {
		vehName = fake.JoinWords(strconv.Itoa(year), vehName)
	}
	number := s.nextNumber
	s.nextNumber++
	return map[string]any{
		"id":                    id,
		"number":                number,
		"status":                cmp.Or(spec.Status, "Estimate"),
		"locationId":            locationID,
		"customerId":            cust.Key,
		"vehicleId":             veh.Key,
		"generatedCustomerName": name,
		"generatedVehicleName":  vehName,
		"complaint":             cmp.Or(spec.Complaint, s.pick(complaints...)),
		"totalCostCents":        5000 + s.rng.IntN(250000),
		"authorized":            spec.Authorized,
		"archived":              spec.Archived,
		"deleted":               spec.Deleted,
		"createdDate":           formatTime(created),
		"updatedDate":           formatTime(updated),
		"phoneNumberId":         s.primaryContact(PhoneNumber, cust.Key),
		"emailId":               s.primaryContact(Email, cust.Key),
		"meta":                  map[string]any{"version": 1},
	}
}

// appointmentData is a new booking request's record, as ShopMonkey serves
// appointments.
func (s *API) appointmentData(locationID string, spec LeadSpec, id, customerID, vehicleID string, created, updated time.Time) map[string]any {
	start := spec.StartAt
	if start.IsZero() {
		day := created.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1+s.rng.IntN(5))
		start = day.Add(time.Duration(8+s.rng.IntN(9)) * time.Hour)
	}
	return map[string]any{
		"id":                id,
		"locationId":        locationID,
		"customerId":        customerID,
		"vehicleId":         vehicleID,
		"name":              cmp.Or(spec.Complaint, s.pick(complaints...)),
		"startDate":         formatTime(start),
		"endDate":           formatTime(start.Add(time.Hour)),
		"color":             s.pick("aqua", "blue", "green", "orange", "purple", "red", "yellow"),
		"attributionSource": cmp.Or(spec.AttributionSource, "WorkRequestForm"),
		"confirmed":         spec.Confirmed,
		"createdDate":       formatTime(created),
		"updatedDate":       formatTime(updated),
		"meta":              map[string]any{"version": 1},
	}
}

// seedCustomer returns the customer spec names, creating it and its phone
// and email records unless spec reuses one.
func (s *API) seedCustomer(locationID string, spec LeadSpec, created time.Time) (*storedRow, error) {
	if spec.CustomerID != "" {
		r, ok := s.records.Get(locationID, Customer, spec.CustomerID)
		if !ok {
			return nil, fmt.Errorf("customer %s is not in location %s", spec.CustomerID, locationID)
		}
		return r, nil
	}
	first := cmp.Or(spec.FirstName, s.pick("Maria", "James", "Aisha", "Chen", "Luis", "Emily", "Omar", "Grace", "Dmitri", "Priya", "Tom", "Fatima"))
	last := cmp.Or(spec.LastName, s.pick("Garcia", "Smith", "Okafor", "Nguyen", "Johnson", "Kowalski", "Haddad", "Brown", "Ivanova", "Patel", "Miller", "Rossi"))
	id := s.newID()
	data := map[string]any{
		"id":                     id,
		"firstName":              first,
		"lastName":               last,
		"companyName":            spec.CompanyName,
		"marketingOptIn":         fake.OrTrue(spec.MarketingOptIn),
		"preferredContactMethod": cmp.Or(spec.PreferredContactMethod, "SMS"),
		"locationIds":            []string{locationID},
		"createdDate":            formatTime(created),
		"updatedDate":            formatTime(created),
	}
	maps.Copy(data, s.addressData(spec))
	cust, err := s.records.Insert(locationID, Customer, data)
	if err != nil {
		return nil, err
	}
	if !spec.NoPhone {
		phone := spec.Phone
		if phone == "" {
			phone = fmt.Sprintf("(312) %03d-%04d", 201+s.rng.IntN(799), s.rng.IntN(10000))
		}
		if _, err := s.records.Insert(locationID, PhoneNumber, map[string]any{
			"id": s.newID(), "customerId": id, "number": phone, "type": "Mobile", "primary": true, "optIn": fake.OrTrue(spec.OptIn),
		}); err != nil {
			return nil, err
		}
	}
	if !spec.NoEmail {
		email := spec.Email
		if email == "" {
			email = fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), s.rng.IntN(100))
		}
		if _, err := s.records.Insert(locationID, Email, map[string]any{
			"id": s.newID(), "customerId": id, "email": email, "primary": true, "subscribed": fake.OrTrue(spec.Subscribed),
		}); err != nil {
			return nil, err
		}
	}
	return cust, nil
}

// addressData is a customer's address as the v3 customer keeps it, at
// the top level: every field null without a state or country.
func (s *API) addressData(spec LeadSpec) map[string]any {
	address := map[string]any{"address1": nil, "address2": nil, "city": nil, "state": nil, "postalCode": nil, "country": nil}
	if spec.State == "" && spec.Country == "" {
		return address
	}
	address["address1"] = fmt.Sprintf("%d %s", 100+s.rng.IntN(9900), s.pick("Main St", "Oak Ave", "Elm St", "Lakeview Dr", "Cedar Rd"))
	address["city"] = s.pick("Springfield", "Riverside", "Fairview", "Georgetown", "Franklin")
	address["postalCode"] = fmt.Sprintf("%05d", 10000+s.rng.IntN(89999))
	if spec.State != "" {
		address["state"] = spec.State
	}
	if spec.Country != "" {
		address["country"] = spec.Country
	}
	return address
}

// seedVehicle returns the vehicle spec names, creating it unless spec
// reuses one.
func (s *API) seedVehicle(locationID string, spec LeadSpec, customerID string) (*storedRow, error) {
	if spec.MissingVehicle {
		// An id no record has; the row is not stored.
		return &storedRow{Key: s.newID(), Loc: locationID}, nil
	}
	if spec.VehicleID != "" {
		r, ok := s.records.Get(locationID, Vehicle, spec.VehicleID)
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
	return s.records.Insert(locationID, Vehicle, map[string]any{
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

// newID draws a UUID from the seeded generator, so a seeded fake repeats
// its ids.
func (s *API) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	return fake.FormatUUID(b)
}

func (s *API) pick(options ...string) string { return fake.Pick(s.rng, options...) }

func (s *API) randomString(alphabet string, n int) string {
	return fake.RandomString(s.rng, alphabet, n)
}

// complaints are what a seeded lead's customer says is wrong.
var complaints = []string{
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
}
