// Package fake is what the sandbox's fakes share: fault injection (Fault,
// FaultQueue, Serve), the record keeping of the two CRM fakes (Records,
// Row, LeadRef), the JSON-value helpers their records are read with, and
// the HTTP helpers the fakes answer and post webhooks with. It knows no
// provider: each fake (sandbox/shopmonkey, sandbox/tekmetric,
// sandbox/twilio, sandbox/sendgrid) keeps its own wire format and quirks,
// and sandbox.Server mounts them all.
package fake
