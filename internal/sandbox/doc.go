// Package sandbox serves the fakes of the providers the orchestrator talks
// to on one listener, and plays what happens around a worker: the combined
// Server (its control API seeds leads, injects faults and shows what was
// received), the Simulator (CRM webhooks and customers' answers) and the
// demo's shops. cmd/sandbox serves it on loopback; tests mount it with
// httptest.
//
// Each fake is a package of its own, so that it reads as one provider and
// keeps that provider's quirks and error shapes: sandbox/shopmonkey
// (fakeshopmonkey), sandbox/tekmetric (faketekmetric), sandbox/twilio
// (faketwilio) and sandbox/sendgrid (fakesendgrid). What they share, fault
// injection and the CRM fakes' record keeping, is sandbox/fake. Each fake
// serves the paths of its real API (for example
// "/2010-04-01/Accounts/{sid}/Messages.json") from its own http.Handler;
// Server mounts them under a prefix ("/twilio").
package sandbox
