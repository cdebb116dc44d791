package sandbox

import (
	"fmt"
	"strconv"
	"time"
)

// DemoShop is a shop the sandbox seeds for the demo: a ShopMonkey location
// or a Tekmetric shop.
type DemoShop struct {
	Name string
	// CRM is "shopmonkey" or "tekmetric".
	CRM string
	// LocationID is the ShopMonkey location or the Tekmetric shop id.
	LocationID string
	// ClientID is the Tekmetric partner application (empty for ShopMonkey).
	ClientID string
	// Secret is the ShopMonkey API key or the Tekmetric client secret.
	Secret   string
	TimeZone string
}

// DemoShops are the shops cmd/sandbox seeds and `make demo` creates tenants
// for: one on each CRM, so the demo shows both in one fleet.
func DemoShops() []DemoShop {
	return []DemoShop{
		{Name: "Maple Street Auto", CRM: "shopmonkey", LocationID: "loc-maple", Secret: "sm_demo_maple", TimeZone: "America/Chicago"},
		{Name: "Oak Ridge Garage", CRM: "tekmetric", LocationID: "238", ClientID: "demo-oak", Secret: "tm_demo_oak", TimeZone: "America/Denver"},
	}
}

// AddDemoShop creates shop in its CRM's fake.
func (s *Server) AddDemoShop(shop DemoShop) error {
	switch shop.CRM {
	case "shopmonkey":
		s.ShopMonkey.AddLocation(shop.Secret, shop.LocationID)
		return nil
	case "tekmetric":
		id, err := strconv.ParseInt(shop.LocationID, 10, 64)
		if err != nil {
			return fmt.Errorf("demo shop %s: Tekmetric shop id %q is not a number", shop.Name, shop.LocationID)
		}
		return s.Tekmetric.AddShop(id, shop.TimeZone, shop.ClientID, shop.Secret)
	}
	return fmt.Errorf("demo shop %s: unknown CRM %q", shop.Name, shop.CRM)
}

// AddDemoLead adds a new lead to shop, created at createdAt (zero: now): a
// booking request when appointment is true, else an estimate.
func (s *Server) AddDemoLead(shop DemoShop, appointment bool, createdAt time.Time) error {
	switch shop.CRM {
	case "shopmonkey":
		spec := LeadSpec{CreatedAt: createdAt}
		if appointment {
			spec.Kind = "appointment"
		}
		_, err := s.ShopMonkey.AddLead(shop.LocationID, spec)
		return err
	case "tekmetric":
		id, err := strconv.ParseInt(shop.LocationID, 10, 64)
		if err != nil {
			return fmt.Errorf("demo shop %s: Tekmetric shop id %q is not a number", shop.Name, shop.LocationID)
		}
		spec := TekmetricLeadSpec{CreatedAt: createdAt}
		if appointment {
			spec.Kind = "appointment"
		}
		_, err = s.Tekmetric.AddLead(id, spec)
		return err
	}
	return fmt.Errorf("demo shop %s: unknown CRM %q", shop.Name, shop.CRM)
}
