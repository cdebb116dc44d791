package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Secrets are masked by their struct tag, not by a list kept here, so a new
// field tagged secret is masked everywhere the moment it is declared:
//
//	secret:"true"  the whole value is replaced by "****"
//	secret:"url"   only the password inside the URL is replaced (database.url)
//
// Any other non-empty tag value masks the whole value. An empty secret stays
// empty when printed, which tells an operator it is missing without telling
// anyone anything else.
//
// Config and every section holding a secret implement fmt.Formatter,
// slog.LogValuer and json.Marshaler with the masked form, so printing,
// logging or encoding one by accident leaks nothing. The methods have value
// receivers so that a Config and a *Config are both covered.

// masked replaces a secret. It keeps nothing of the secret, not even a prefix
// or a length.
const masked = "****"

// Redacted returns the effective configuration as nested maps keyed like
// config.yaml, with secrets masked and durations written as in the file
// ("20ms"). It is what `worker config` prints and what logs show.
func (c Config) Redacted() map[string]any {
	return redactedMap(reflect.ValueOf(c))
}

// String lists the effective configuration one "key: value" line per key, in
// the order of config.yaml, with secrets masked.
func (c Config) String() string {
	var b strings.Builder
	for i, kv := range redact(reflect.ValueOf(c)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: %s", kv.key, displayString(kv.value))
	}
	return b.String()
}

// Format makes every fmt verb (%v, %+v, %#v, %s, even %d) print String, so
// that no verb reaches the struct's fields and their secrets.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the configuration as nested groups with secrets masked.
func (c Config) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes Redacted, never the secrets.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Redacted()) }

// Format prints the section with its password masked; see Config.Format.
func (c DatabaseConfig) Format(f fmt.State, _ rune) { formatSection(f, c) }

// LogValue logs the section with its password masked.
func (c DatabaseConfig) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes the section with its password masked.
func (c DatabaseConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedMap(reflect.ValueOf(c)))
}

// Format prints the section with its password masked; see Config.Format.
func (c RiverUIConfig) Format(f fmt.State, _ rune) { formatSection(f, c) }

// LogValue logs the section with its password masked.
func (c RiverUIConfig) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes the section with its password masked.
func (c RiverUIConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedMap(reflect.ValueOf(c)))
}

// Format prints the section with its auth token masked; see Config.Format.
func (c TwilioConfig) Format(f fmt.State, _ rune) { formatSection(f, c) }

// LogValue logs the section with its auth token masked.
func (c TwilioConfig) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes the section with its auth token masked.
func (c TwilioConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedMap(reflect.ValueOf(c)))
}

// Format prints the section with its API key masked; see Config.Format.
func (c SendGridConfig) Format(f fmt.State, _ rune) { formatSection(f, c) }

// LogValue logs the section with its API key masked.
func (c SendGridConfig) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes the section with its API key masked.
func (c SendGridConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedMap(reflect.ValueOf(c)))
}

// Format prints the section with its keys masked; see Config.Format.
func (c CredentialsConfig) Format(f fmt.State, _ rune) { formatSection(f, c) }

// LogValue logs the section with its keys masked.
func (c CredentialsConfig) LogValue() slog.Value { return groupValue(redact(reflect.ValueOf(c))) }

// MarshalJSON encodes the section with its keys masked.
func (c CredentialsConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedMap(reflect.ValueOf(c)))
}

// keyValue is one leaf of a struct with its value made safe to show.
type keyValue struct {
	key   string
	value any
}

// redact returns the leaves of struct value v in declaration order, secrets
// masked.
func redact(v reflect.Value) []keyValue {
	leaves := leavesOf(v.Type(), "", nil)
	kvs := make([]keyValue, 0, len(leaves))
	for _, l := range leaves {
		kvs = append(kvs, keyValue{key: l.key, value: maskedValue(l, v.FieldByIndex(l.index))})
	}
	return kvs
}

func maskedValue(l leaf, v reflect.Value) any {
	switch {
	case l.secret == "":
		return v.Interface()
	case v.IsZero():
		return ""
	case l.secret == "url" && v.Kind() == reflect.String:
		return maskURLPassword(v.String())
	default:
		return masked
	}
}

// maskURLPassword replaces the password of a URL, in its userinfo or in a
// password or sslpassword query parameter (pgx reads both), keeping the rest.
// A value that is not plainly scheme://host... is masked whole: if it cannot
// be parsed, nobody can say which part of it is the password.
func maskURLPassword(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.Fragment != "" ||
		(u.User == nil && strings.Contains(s, "@")) {
		// An unescaped '#' or '/' in a password makes url.Parse see a
		// fragment or a path, and the password then hides there.
		return masked
	}

	if u.RawQuery != "" {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			name, _, _ := strings.Cut(p, "=")
			if unescaped, err := url.QueryUnescape(name); err != nil || unescaped == "password" || unescaped == "sslpassword" {
				params[i] = name + "=" + masked
			}
		}
		u.RawQuery = strings.Join(params, "&")
	}

	// url.URL.String would percent-encode the mask's asterisks inside the
	// userinfo, so the userinfo is written by hand.
	var userinfo string
	if u.User != nil {
		userinfo = url.User(u.User.Username()).String()
		if _, ok := u.User.Password(); ok {
			userinfo += ":" + masked
		}
		userinfo += "@"
	}
	u.User = nil
	prefix := u.Scheme + "://"
	return prefix + userinfo + strings.TrimPrefix(u.String(), prefix)
}

// display converts a masked leaf value to what is shown: durations as in
// config.yaml ("20ms") rather than nanoseconds.
func display(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}

// displayString formats a leaf value for a "key: value" line: strings quoted,
// so that multi-line templates stay on one line.
func displayString(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(display(v))
}

// redactedMap returns struct value v as nested maps keyed by mapstructure
// name, secrets masked.
func redactedMap(v reflect.Value) map[string]any {
	root := make(map[string]any)
	for _, kv := range redact(v) {
		m := root
		parts := strings.Split(kv.key, ".")
		for _, section := range parts[:len(parts)-1] {
			child, ok := m[section].(map[string]any)
			if !ok {
				child = make(map[string]any)
				m[section] = child
			}
			m = child
		}
		m[parts[len(parts)-1]] = display(kv.value)
	}
	return root
}

// groupValue nests the leaves into slog groups by the segments of their keys,
// keeping declaration order (which keeps each section's leaves together).
func groupValue(kvs []keyValue) slog.Value {
	var attrs []slog.Attr
	for i := 0; i < len(kvs); {
		section, _, nested := strings.Cut(kvs[i].key, ".")
		if !nested {
			attrs = append(attrs, slog.Any(section, display(kvs[i].value)))
			i++
			continue
		}
		var inner []keyValue
		for ; i < len(kvs); i++ {
			head, rest, ok := strings.Cut(kvs[i].key, ".")
			if !ok || head != section {
				break
			}
			inner = append(inner, keyValue{key: rest, value: kvs[i].value})
		}
		attrs = append(attrs, slog.Attr{Key: section, Value: groupValue(inner)})
	}
	return slog.GroupValue(attrs...)
}

// formatSection writes a section as {key:value ...} with secrets masked.
func formatSection(w io.Writer, section any) {
	kvs := redact(reflect.ValueOf(section))
	parts := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		parts = append(parts, kv.key+":"+displayString(kv.value))
	}
	_, _ = fmt.Fprintf(w, "{%s}", strings.Join(parts, " "))
}
