// Package crmhttp is the HTTP plumbing every CRM adapter shares: one call
// with a bearer token and a bounded read, the mapping of a refused answer
// to the crm errors the jobs act on, Retry-After, and keeping secrets out
// of what the server wrote. ShopMonkey's and Tekmetric's packages had each
// written it out (the review found the copies); what differs
// between CRMs (envelopes, error bodies, token refresh) stays in theirs.
//
// It imports only crm, lead and the standard library.
package crmhttp
