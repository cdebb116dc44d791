package sandbox

// DemoShop is a ShopMonkey location the sandbox seeds for the demo.
type DemoShop struct {
	Name       string
	LocationID string
	APIKey     string
}

// DemoShops are the shops cmd/sandbox seeds and `make demo` creates tenants
// for.
func DemoShops() []DemoShop {
	return []DemoShop{
		{Name: "Maple Street Auto", LocationID: "loc-maple", APIKey: "sm_demo_maple"},
		{Name: "Oak Ridge Garage", LocationID: "loc-oak", APIKey: "sm_demo_oak"},
	}
}
