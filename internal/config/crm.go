package config

import "time"

// CRMConfig is one CRM's fleet-wide API client settings: the shape every
// CRM's section (shopmonkey, tekmetric) shares.
type CRMConfig struct {
	BaseURL string
	Timeout time.Duration
}

// CRMs returns each CRM's settings by its kind (the tenants' crm_kind), so
// the worker hands them to the CRM registry without naming a CRM.
func (c *Config) CRMs() map[string]CRMConfig {
	return map[string]CRMConfig{
		"shopmonkey": CRMConfig(c.ShopMonkey),
		"tekmetric":  CRMConfig(c.Tekmetric),
	}
}
