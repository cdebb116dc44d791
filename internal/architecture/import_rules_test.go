package architecture

import (
	"path"
	"strings"
)

// importRules are the import rules of ARCHITECTURE.md, written once. Paths
// are relative to the module; only our own packages count (the standard
// library and third-party modules are each room's own business), and only
// non-test files (tests may import fakes and fixtures).
//
// A rule governs the packages in pkgs and says any of: the only packages of
// ours they may import (only; an empty list means none), packages they must
// never import (never), or the only packages that may import them
// (importedBy). why is what a failure says; make it name the rule, not the
// symptom.
var importRules = []importRule{
	{
		pkgs: pkg("internal/lead"), only: nothing,
		why: "lead is the domain: it imports nothing of ours, so every room can use it",
	},
	{
		pkgs: webhookHelper, only: nothing,
		why: "a webhook helper (webhookurl, webhookfield) imports nothing of ours, so adapters, httpapi, the sandbox and cmd can all use it",
	},
	{
		pkgs: telemetry, only: nothing,
		why: "a telemetry helper (metrics, tracing) imports nothing of ours, so every room that records what it does can use it",
	},
	{
		pkgs: pkg("internal/crm"), only: sets(pkg("internal/lead"), telemetry),
		why: "the crm port knows only the domain (and records through the telemetry helpers)",
	},
	{
		pkgs: crmKind, only: sets(pkg("internal/crm"), pkg("internal/lead"), crmShared, webhookHelper, telemetry),
		why: "a CRM adapter knows only the crm port, the domain, shared crm helpers, webhook and telemetry helpers: never another CRM, the store, jobs, httpapi, messaging or config",
	},
	{
		pkgs: crmShared, never: sets(crmKind, crmset, tree("internal/store"), tree("internal/jobs"), tree("internal/httpapi"), tree("internal/messaging"), tree("internal/config")),
		why: "a shared crm helper serves every CRM, so it names none of them and none of the rooms a CRM may not enter", mayBeEmpty: true,
	},
	{
		// cmd too: adding a CRM changes nothing in cmd (issue 10), and
		// cmd/enqueue once imported two kinds for their names.
		pkgs: crmKind, importedBy: sets(crmset, testSupport),
		why: "only the registry list (crm/crmset) names a CRM; everything else, cmd included, finds a kind through crm.Registry",
	},
	{
		pkgs: crmset, importedBy: sets(tree("cmd"), testSupport),
		why: "crmset is wiring: cmd builds the registry and hands the *crm.Registry down",
	},
	{
		pkgs: pkg("internal/messaging"), only: sets(pkg("internal/lead")),
		why: "the messaging port knows only the domain",
	},
	{
		pkgs: provider, only: sets(pkg("internal/messaging"), pkg("internal/lead"), webhookHelper, telemetry),
		why: "a messaging provider knows only the messaging port, the domain, webhook and telemetry helpers",
	},
	{
		pkgs: pkg("internal/store"), only: sets(pkg("internal/lead"), pkg("internal/crm"), pkg("db/migrations")),
		why: "the store knows the domain, the crm port (it implements its budget) and the migrations",
	},
	{
		pkgs: tree("internal/jobs"), never: sets(crmKind, crmset, provider, tree("internal/httpapi"), tree("internal/config")),
		why: "jobs talk to CRMs and providers through their ports, and are handed their settings: no adapter, registry list, httpapi or config",
	},
	{
		pkgs: tree("internal/httpapi"), only: sets(pkg("internal/lead"), pkg("internal/crm"), pkg("internal/messaging"), webhookHelper, telemetry),
		why: "httpapi is routes, auth and middleware: it uses ports (lead, crm, messaging), webhook and telemetry helpers, never adapters, the store, jobs or config",
	},
	{
		pkgs: tree("internal/sandbox"), only: sets(tree("internal/sandbox"), webhookHelper),
		why: "the sandbox fakes behave like the real APIs from the outside: they share nothing with our code but webhook helpers",
	},
	{
		pkgs: pkg("internal/config"), importedBy: sets(tree("cmd"), testSupport),
		why: "config is read by cmd, which hands each room typed options; no room reads it itself",
	},
	{
		pkgs: production, never: sets(testSupport),
		why: "test support (testdb, fixtures, *test packages) ships in no binary and no production package",
	},
}

// nothing is the only list of a room that imports nothing of ours.
var nothing = []pkgSet{}

// The named sets the rules use. A CRM kind is a package directly under
// internal/crm whose name does not start with "crm"; packages named crm*
// there are the registry list (crmset) or helpers shared by every CRM (such as
// crmhttp or a contract suite crmtest). A provider is a package directly under
// internal/messaging. A webhook helper is a package directly under internal
// named webhook* (webhookurl spells the routes, webhookfield reads webhook
// bodies' fields): it imports nothing of ours, so every room may use it.
// Test support is what only tests use: internal/testdb, fixture packages and
// packages named *test.
var (
	crmKind = pkgSet{"internal/crm/<kind>", func(rel string) bool {
		dir, name := path.Split(rel)
		return dir == "internal/crm/" && !strings.HasPrefix(name, "crm")
	}}
	crmset    = pkg("internal/crm/crmset")
	crmShared = pkgSet{"internal/crm/crm* (shared crm helpers)", func(rel string) bool {
		dir, name := path.Split(rel)
		return dir == "internal/crm/" && strings.HasPrefix(name, "crm") && name != "crmset"
	}}
	webhookHelper = pkgSet{"internal/webhook* (webhook helpers)", func(rel string) bool {
		dir, name := path.Split(rel)
		return dir == "internal/" && strings.HasPrefix(name, "webhook")
	}}
	// A telemetry helper records what a room does (Prometheus metrics,
	// OpenTelemetry traces) and imports nothing of ours.
	telemetry = pkgSet{"internal/metrics, internal/tracing (telemetry helpers)", func(rel string) bool {
		return rel == "internal/metrics" || rel == "internal/tracing"
	}}
	provider = pkgSet{"internal/messaging/<provider>", func(rel string) bool {
		dir, _ := path.Split(rel)
		return dir == "internal/messaging/"
	}}
	testSupport = pkgSet{"test support", func(rel string) bool {
		name := path.Base(rel)
		return rel == "internal/testdb" || name == "fixture" || name == "fixtures" || strings.HasSuffix(name, "test")
	}}
	production = pkgSet{"every production package", func(rel string) bool {
		return !testSupport.has(rel)
	}}
)
