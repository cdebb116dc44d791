// Package fake is what the sandbox's fakes share, so that no fake repeats
// another's plumbing: fault injection (Fault, the FaultQueue every fake
// embeds, Serve), the settable Clock and the RequestLog, the record
// keeping of the two CRM fakes (Records, Row, LeadRef and the Store that
// offers Leads, Record, Mutate and AddRaw), the JSON-value helpers their
// records are read with, and the HTTP helpers the fakes answer and post
// webhooks with (JSONWriter, SetRetryAfter, PostWebhook). It knows no
// provider: each fake (sandbox/shopmonkey, sandbox/tekmetric,
// sandbox/twilio, sandbox/sendgrid) keeps its own wire format and quirks,
// and sandbox.Server mounts them all. Package faketest holds what the
// fakes' tests share.
package fake
