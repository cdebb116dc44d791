package crmhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Endpoint is where and how an adapter calls its CRM, checked from its
// Opts.
type Endpoint struct {
	BaseURL string
	Client  *http.Client
	Timeout time.Duration
}

// EndpointOpts are the fields of an adapter's Opts every CRM has, with
// its default API root and the version path its docs add (see BaseURL).
type EndpointOpts struct {
	BaseURL, DefaultBaseURL, APISuffix string
	HTTPClient                         *http.Client
	Timeout                            time.Duration
}

// NewEndpoint checks o (see BaseURL and Client) and returns its Endpoint,
// or every invalid field at once: o's BaseURL, then fieldErrs (the
// adapter's own fields' errors; nil ones are skipped), then o's client
// and timeout. Both adapters' New had written these steps out.
func NewEndpoint(crmName string, o EndpointOpts, fieldErrs ...error) (Endpoint, error) {
	base, err := BaseURL(crmName, o.BaseURL, o.DefaultBaseURL, o.APISuffix)
	errs := append([]error{err}, fieldErrs...)
	client, timeout, err := Client(crmName, o.HTTPClient, o.Timeout)
	if err := errors.Join(append(errs, err)...); err != nil {
		return Endpoint{}, err
	}
	return Endpoint{BaseURL: base, Client: client, Timeout: timeout}, nil
}

// Required is the error of a required field of crmName's Opts left blank,
// or nil, for NewEndpoint's fieldErrs.
func Required(crmName, field, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s: %s is required", crmName, field)
	}
	return nil
}
