package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Load builds the configuration and checks it with Validate.
//
// Each key takes the first value found in:
//
//  1. the environment variable LEADORCH_<SECTION>_<KEY>, read through getenv
//     (tests pass a map lookup; main passes os.Getenv). An empty variable
//     counts as unset, as it does for os.Getenv;
//  2. for database.url only, the conventional DATABASE_URL variable, so that
//     hosting platforms and `make demo` that set it need no second name;
//  3. the YAML file at path ("" reads no file; a path that does not exist is
//     an error, since a typo in -config must not silently run on defaults);
//  4. Default.
//
// A key in the file that Config does not have is reported as a problem (with
// the nearest known key when one is close), never ignored: a misspelt key
// would otherwise leave its default in force without anyone noticing.
//
// Problems with the file's keys or values are returned as one
// *ValidationError listing them all.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}

	v := viper.New()
	v.SetConfigType("yaml")

	var problems []FieldError
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("error reading config file: %w", err)
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("error parsing config file %s: %w", path, err)
		}
		// Before defaults and overrides are added, viper's keys are exactly
		// the file's.
		problems = append(problems, unknownKeys(v, path)...)
	}

	defaults := reflect.ValueOf(Default())
	for _, l := range configLeaves() {
		v.SetDefault(l.key, defaults.FieldByIndex(l.index).Interface())
		if s := getenv(envVar(l.key)); s != "" {
			v.Set(l.key, s)
		}
	}
	if getenv(envVar("database.url")) == "" {
		if s := getenv("DATABASE_URL"); s != "" {
			v.Set("database.url", s)
		}
	}

	var cfg Config
	// Environment values are all strings, so decoding must be weakly typed
	// (viper's default) for "50" to become an int; the hook parses "20ms".
	// Unknown keys were reported above with better messages than
	// UnmarshalExact's, and the environment only sets known keys.
	if err := v.Unmarshal(&cfg, viper.DecodeHook(mapstructure.StringToTimeDurationHookFunc())); err != nil {
		problems = appendNew(problems, decodeProblems(err, v)...)
		return nil, &ValidationError{Problems: problems}
	}

	// The same checks as Validate, joined with the unknown keys above.
	if err := validationError(append(problems, cfg.problems()...)); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// unknownKeys reports every key of the file that is not a key of Config, and
// every section of Config that the file gives a plain value instead of keys.
func unknownKeys(v *viper.Viper, path string) []FieldError {
	leaves := configLeaves()
	known := make(map[string]bool, len(leaves))
	sections := make(map[string]bool)
	for _, l := range leaves {
		known[l.key] = true
		parts := strings.Split(l.key, ".")
		for i := 1; i < len(parts); i++ {
			sections[strings.Join(parts[:i], ".")] = true
		}
	}

	fileKeys := v.AllKeys()
	sort.Strings(fileKeys)

	var problems []FieldError
	for _, key := range fileKeys {
		switch {
		case known[key]:
		case sections[key]:
			// "riverui:" with nothing under it is an empty section, not a
			// mistake; "queues: 5" is.
			if v.Get(key) != nil {
				problems = append(problems, FieldError{Key: key, Problem: fmt.Sprintf("is a section in %s and needs keys under it, not a value", path)})
			}
		default:
			problem := "unknown key in " + path
			if near := nearestKey(key, leaves); near != "" {
				problem += fmt.Sprintf(" (did you mean %s?)", near)
			}
			problems = append(problems, FieldError{Key: key, Problem: problem})
		}
	}
	return problems
}

// nearestKey returns the known key closest to key by edit distance, or "" if
// none is close enough to be a likely typo.
func nearestKey(key string, leaves []leaf) string {
	const maxDistance = 3
	best, bestDistance := "", maxDistance+1
	for _, l := range leaves {
		if d := editDistance(key, l.key); d < bestDistance {
			best, bestDistance = l.key, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// appendNew appends the problems whose key has none yet: "queues: 5" is
// reported once as a section given a value, not again by the decoder.
func appendNew(problems []FieldError, more ...FieldError) []FieldError {
	seen := make(map[string]bool, len(problems))
	for _, p := range problems {
		seen[p.Key] = true
	}
	for _, p := range more {
		if !seen[p.Key] || p.Key == "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// decodeProblems turns mapstructure's joined errors into one FieldError per
// key, so that a value that cannot be decoded ("abc" for an int) is reported
// like any other problem, with the rule it breaks.
func decodeProblems(err error, v *viper.Viper) []FieldError {
	leaves := make(map[string]leaf)
	for _, l := range configLeaves() {
		leaves[l.key] = l
	}
	configType := reflect.TypeFor[Config]()

	var problems []FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *mapstructure.DecodeError:
			problem := "invalid value: " + e.Unwrap().Error()
			if l, ok := leaves[e.Name()]; ok {
				switch configType.FieldByIndex(l.index).Type {
				case reflect.TypeFor[time.Duration]():
					problem = `must be a duration such as "20ms", "10s" or "2m"`
				case reflect.TypeFor[int]():
					problem = "must be a whole number"
				case reflect.TypeFor[bool]():
					problem = "must be true or false"
				}
				if l.secret == "" {
					problem += fmt.Sprintf(", got %q", fmt.Sprint(v.Get(l.key)))
				}
			}
			problems = append(problems, FieldError{Key: e.Name(), Problem: problem})
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		default:
			problems = append(problems, FieldError{Key: "", Problem: err.Error()})
		}
	}
	walk(err)
	return problems
}
