package config

import "github.com/leadorch/lead-orchestrator/internal/crm"

// CRMs returns each CRM's settings by its kind (the tenants' crm_kind), in
// the registry's own type, so the worker hands them on without naming a
// CRM or copying fields.
func (c *Config) CRMs() map[string]crm.Settings {
	return map[string]crm.Settings{
		"shopmonkey": crm.Settings(c.ShopMonkey),
		"tekmetric":  crm.Settings(c.Tekmetric),
	}
}
