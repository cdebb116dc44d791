// Package sandbox holds fakes of the providers the orchestrator talks to:
// ShopMonkey v3, Twilio Messages and SendGrid mail send. They behave like the
// real APIs, quirks and error shapes included, so that the real adapters and
// the real SDKs run against them over real HTTP in tests, in `make demo`, in
// the benchmark and in the fault harness. cmd/sandbox serves them on
// loopback; tests mount them with httptest.
//
// Each fake serves the paths of its real API (for example
// "/2010-04-01/Accounts/{sid}/Messages.json") from its own http.Handler;
// Server mounts them under a prefix ("/twilio") so one listener serves all.
package sandbox
