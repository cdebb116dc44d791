package architecture

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// targetGraph is the layout ARCHITECTURE.md describes, small: every import
// here is allowed, so each case below adds one import and expects exactly the
// rules it breaks.
func targetGraph() importGraph {
	return importGraph{
		"internal/lead":                   {},
		"internal/webhookurl":             {},
		"internal/metrics":                {},
		"internal/tracing":                {},
		"internal/crm":                    {"internal/lead"},
		"internal/crm/crmhttp":            {"internal/crm", "internal/lead"},
		"internal/crm/crmtest":            {"internal/crm", "internal/lead", "internal/fixture"},
		"internal/crm/shopmonkey":         {"internal/crm", "internal/lead", "internal/crm/crmhttp"},
		"internal/crm/tekmetric":          {"internal/crm", "internal/lead", "internal/crm/crmhttp"},
		"internal/crm/crmset":             {"internal/crm", "internal/crm/shopmonkey", "internal/crm/tekmetric"},
		"internal/messaging":              {"internal/lead"},
		"internal/messaging/twilio":       {"internal/messaging", "internal/lead"},
		"internal/messaging/sendgrid":     {"internal/messaging", "internal/lead"},
		"internal/store":                  {"internal/lead", "internal/crm", "db/migrations"},
		"internal/credentials":            {"internal/lead"},
		"internal/config":                 {"internal/lead", "internal/credentials", "internal/messaging/sendgrid"},
		"internal/jobs":                   {"internal/lead", "internal/crm", "internal/messaging", "internal/store", "internal/credentials", "internal/metrics"},
		"internal/httpapi":                {"internal/lead", "internal/crm", "internal/messaging", "internal/webhookurl", "internal/metrics", "internal/tracing"},
		"internal/sandbox":                {"internal/sandbox/fake", "internal/sandbox/fakeshopmonkey", "internal/webhookurl"},
		"internal/sandbox/fake":           {},
		"internal/sandbox/fakeshopmonkey": {"internal/sandbox/fake"},
		"internal/testdb":                 {"internal/store", "db/migrations"},
		"internal/fixture":                {"internal/lead", "internal/credentials", "internal/testdb"},
		"db/migrations":                   {},
		"cmd/worker":                      {"internal/config", "internal/crm/crmset", "internal/httpapi", "internal/jobs", "internal/messaging/twilio", "internal/store"},
		"cmd/enqueue":                     {"internal/config", "internal/crm/crmset", "internal/jobs", "internal/webhookurl"},
	}
}

func TestCheckImportsReportsEachBrokenRule(t *testing.T) {
	t.Parallel()

	require.Empty(t, checkImports(targetGraph(), importRules), "the target layout breaks no rule")
	require.Empty(t, unusedRules(targetGraph(), importRules), "the target layout has a package for every rule")

	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{"lead imports a room", "internal/lead", "internal/store", []string{
			"internal/lead imports internal/store: internal/lead must import nothing of ours (lead is the domain: it imports nothing of ours, so every room can use it)",
		}},
		{"webhookurl imports the domain", "internal/webhookurl", "internal/lead", []string{
			"internal/webhookurl imports internal/lead: internal/webhook* (webhook helpers) must import nothing of ours (a webhook helper (webhookurl, webhookfield) imports nothing of ours, so adapters, httpapi, the sandbox and cmd can all use it)",
		}},
		{"the crm port imports the store", "internal/crm", "internal/store", []string{
			"internal/crm imports internal/store: internal/crm may import only internal/lead, internal/metrics, internal/tracing (telemetry helpers) (the crm port knows only the domain (and records through the telemetry helpers))",
		}},
		{"a telemetry helper imports the domain", "internal/metrics", "internal/lead", []string{
			"internal/metrics imports internal/lead: internal/metrics, internal/tracing (telemetry helpers) must import nothing of ours (a telemetry helper (metrics, tracing) imports nothing of ours, so every room that records what it does can use it)",
		}},
		{"a CRM imports another", "internal/crm/tekmetric", "internal/crm/shopmonkey", []string{
			"internal/crm/tekmetric imports internal/crm/shopmonkey: internal/crm/<kind> may import only internal/crm, internal/lead, internal/crm/crm* (shared crm helpers), internal/webhook* (webhook helpers), internal/metrics, internal/tracing (telemetry helpers) (a CRM adapter knows only the crm port, the domain, shared crm helpers, webhook and telemetry helpers: never another CRM, the store, jobs, httpapi, messaging or config)",
			"internal/crm/tekmetric imports internal/crm/shopmonkey: only internal/crm/crmset, test support may import internal/crm/<kind> (only the registry list (crm/crmset) names a CRM; everything else, cmd included, finds a kind through crm.Registry)",
		}},
		{"a CRM imports the store", "internal/crm/shopmonkey", "internal/store", []string{
			"internal/crm/shopmonkey imports internal/store: internal/crm/<kind> may import only internal/crm, internal/lead, internal/crm/crm* (shared crm helpers), internal/webhook* (webhook helpers), internal/metrics, internal/tracing (telemetry helpers) (a CRM adapter knows only the crm port, the domain, shared crm helpers, webhook and telemetry helpers: never another CRM, the store, jobs, httpapi, messaging or config)",
		}},
		{"a shared crm helper names a CRM", "internal/crm/crmhttp", "internal/crm/tekmetric", []string{
			"internal/crm/crmhttp imports internal/crm/tekmetric: internal/crm/crm* (shared crm helpers) must not import internal/crm/<kind> (a shared crm helper serves every CRM, so it names none of them and none of the rooms a CRM may not enter)",
			"internal/crm/crmhttp imports internal/crm/tekmetric: only internal/crm/crmset, test support may import internal/crm/<kind> (only the registry list (crm/crmset) names a CRM; everything else, cmd included, finds a kind through crm.Registry)",
		}},
		{"jobs imports a CRM", "internal/jobs", "internal/crm/shopmonkey", []string{
			"internal/jobs imports internal/crm/shopmonkey: internal/jobs/... must not import internal/crm/<kind> (jobs talk to CRMs and providers through their ports, and are handed their settings: no adapter, registry list, httpapi or config)",
			"internal/jobs imports internal/crm/shopmonkey: only internal/crm/crmset, test support may import internal/crm/<kind> (only the registry list (crm/crmset) names a CRM; everything else, cmd included, finds a kind through crm.Registry)",
		}},
		{"jobs imports the registry list", "internal/jobs", "internal/crm/crmset", []string{
			"internal/jobs imports internal/crm/crmset: internal/jobs/... must not import internal/crm/crmset (jobs talk to CRMs and providers through their ports, and are handed their settings: no adapter, registry list, httpapi or config)",
			"internal/jobs imports internal/crm/crmset: only cmd/..., test support may import internal/crm/crmset (crmset is wiring: cmd builds the registry and hands the *crm.Registry down)",
		}},
		{"jobs imports a provider", "internal/jobs", "internal/messaging/twilio", []string{
			"internal/jobs imports internal/messaging/twilio: internal/jobs/... must not import internal/messaging/<provider> (jobs talk to CRMs and providers through their ports, and are handed their settings: no adapter, registry list, httpapi or config)",
		}},
		{"jobs reads config", "internal/jobs", "internal/config", []string{
			"internal/jobs imports internal/config: internal/jobs/... must not import internal/config/... (jobs talk to CRMs and providers through their ports, and are handed their settings: no adapter, registry list, httpapi or config)",
			"internal/jobs imports internal/config: only cmd/..., test support may import internal/config (config is read by cmd, which hands each room typed options; no room reads it itself)",
		}},
		{"the messaging port imports a provider", "internal/messaging", "internal/messaging/twilio", []string{
			"internal/messaging imports internal/messaging/twilio: internal/messaging may import only internal/lead (the messaging port knows only the domain)",
		}},
		{"a provider imports the store", "internal/messaging/sendgrid", "internal/store", []string{
			"internal/messaging/sendgrid imports internal/store: internal/messaging/<provider> may import only internal/messaging, internal/lead, internal/webhook* (webhook helpers), internal/metrics, internal/tracing (telemetry helpers) (a messaging provider knows only the messaging port, the domain, webhook and telemetry helpers)",
		}},
		{"the store imports jobs", "internal/store", "internal/jobs", []string{
			"internal/store imports internal/jobs: internal/store may import only internal/lead, internal/crm, db/migrations (the store knows the domain, the crm port (it implements its budget) and the migrations)",
		}},
		{"httpapi imports a provider", "internal/httpapi", "internal/messaging/sendgrid", []string{
			"internal/httpapi imports internal/messaging/sendgrid: internal/httpapi/... may import only internal/lead, internal/crm, internal/messaging, internal/webhook* (webhook helpers), internal/metrics, internal/tracing (telemetry helpers) (httpapi is routes, auth and middleware: it uses ports (lead, crm, messaging), webhook and telemetry helpers, never adapters, the store, jobs or config)",
		}},
		{"httpapi imports the store", "internal/httpapi", "internal/store", []string{
			"internal/httpapi imports internal/store: internal/httpapi/... may import only internal/lead, internal/crm, internal/messaging, internal/webhook* (webhook helpers), internal/metrics, internal/tracing (telemetry helpers) (httpapi is routes, auth and middleware: it uses ports (lead, crm, messaging), webhook and telemetry helpers, never adapters, the store, jobs or config)",
		}},
		{"a fake imports the domain", "internal/sandbox/fakeshopmonkey", "internal/lead", []string{
			"internal/sandbox/fakeshopmonkey imports internal/lead: internal/sandbox/... may import only internal/sandbox/..., internal/webhook* (webhook helpers) (the sandbox fakes behave like the real APIs from the outside: they share nothing with our code but webhook helpers)",
		}},
		{"production imports a fixture", "internal/store", "internal/fixture", []string{
			"internal/store imports internal/fixture: every production package must not import test support (test support (testdb, fixtures, *test packages) ships in no binary and no production package)",
			"internal/store imports internal/fixture: internal/store may import only internal/lead, internal/crm, db/migrations (the store knows the domain, the crm port (it implements its budget) and the migrations)",
		}},
		{"cmd imports testdb", "cmd/enqueue", "internal/testdb", []string{
			"cmd/enqueue imports internal/testdb: every production package must not import test support (test support (testdb, fixtures, *test packages) ships in no binary and no production package)",
		}},
		{"production imports a contract suite", "cmd/worker", "internal/crm/crmtest", []string{
			"cmd/worker imports internal/crm/crmtest: every production package must not import test support (test support (testdb, fixtures, *test packages) ships in no binary and no production package)",
		}},
		{"test support may use test support and kinds", "internal/fixture", "internal/crm/shopmonkey", nil},
		{"cmd names a CRM", "cmd/enqueue", "internal/crm/tekmetric", []string{
			"cmd/enqueue imports internal/crm/tekmetric: only internal/crm/crmset, test support may import internal/crm/<kind> (only the registry list (crm/crmset) names a CRM; everything else, cmd included, finds a kind through crm.Registry)",
		}},
		{"cmd uses the registry list", "cmd/bench", "internal/crm/crmset", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := targetGraph()
			g[tt.from] = append(g[tt.from], tt.to)
			require.Equal(t, tt.want, checkImports(g, importRules))
		})
	}
}

func TestUnusedRulesNamesARenamedRoom(t *testing.T) {
	t.Parallel()

	g := targetGraph()
	delete(g, "internal/httpapi")
	require.Equal(t, []string{
		"the rule on internal/httpapi/... governs no package: was it renamed? (httpapi is routes, auth and middleware: it uses ports (lead, crm, messaging), webhook and telemetry helpers, never adapters, the store, jobs or config)",
	}, unusedRules(g, importRules))

	g = targetGraph()
	delete(g, "internal/crm/crmhttp")
	require.Empty(t, unusedRules(g, importRules), "shared crm helpers need not exist")
}
