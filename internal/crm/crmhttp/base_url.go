package crmhttp

import (
	"fmt"
	"net/url"
	"strings"
)

// BaseURL is the API root an adapter calls: given without trailing slashes
// and without apiSuffix (the CRM's docs give the root with its version
// path, "/v3", and operators copy it), or dflt when given is empty. It
// refuses anything but an absolute http or https URL without a query,
// naming the CRM's field.
func BaseURL(crmName, given, dflt, apiSuffix string) (string, error) {
	base := strings.TrimRight(given, "/")
	if base == "" {
		base = dflt
	}
	base = strings.TrimSuffix(base, apiSuffix)
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%s: BaseURL %q must be an absolute http or https URL without a query", crmName, given)
	}
	return base, nil
}
