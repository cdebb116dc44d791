package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// secretFlags say where a secret comes from: an environment variable or a
// file. The secret itself is never a flag's value: command lines end up in
// shell history and in ps. One type serves the CRM secret and the
// ShopMonkey webhook signing secret, so both are read, and refused, alike.
type secretFlags struct {
	// sources are the flags that may name the secret, the environment
	// flag and the file flag that messages suggest first.
	sources []secretSourceFlag
	// given are the sources named, in command-line order.
	given []secretSource
}

type secretSourceFlag struct {
	flag, usage string
	fromFile    bool
}

type secretSource struct {
	flag     string
	value    string
	fromFile bool
}

// newCRMSecretFlags are the flags of a tenant's CRM secret (a ShopMonkey
// API key, a Tekmetric client secret). --api-key-env and --api-key-file are
// the names from before Tekmetric, whose secret is not an API key; scripts
// and the README still use them.
func newCRMSecretFlags() secretFlags {
	return secretFlags{sources: []secretSourceFlag{
		{"secret-env", "environment variable holding the CRM secret", false},
		{"secret-file", "file holding the CRM secret", true},
		{"api-key-env", "old name of --secret-env", false},
		{"api-key-file", "old name of --secret-file", true},
	}}
}

// newWebhookSecretFlags are the flags of the secret ShopMonkey signs the
// shop's webhooks with.
func newWebhookSecretFlags() secretFlags {
	return secretFlags{sources: []secretSourceFlag{
		{"webhook-secret-env", "environment variable holding the ShopMonkey webhook signing secret (whsec_...)", false},
		{"webhook-secret-file", "file holding the ShopMonkey webhook signing secret (whsec_...)", true},
	}}
}

// flagNames names the preferred flags, for messages:
// "--secret-env/--secret-file".
func (s *secretFlags) flagNames() string {
	return "--" + s.sources[0].flag + "/--" + s.sources[1].flag
}

func (s *secretFlags) register(fset *flag.FlagSet) {
	for _, src := range s.sources {
		fset.Func(src.flag, src.usage, func(v string) error {
			s.given = append(s.given, secretSource{flag: src.flag, value: v, fromFile: src.fromFile})
			return nil
		})
	}
}

func (s *secretFlags) isGiven() bool { return len(s.given) > 0 }

// read reads the secret from the one source given. Errors never quote what
// was given, in case an operator put the secret itself where its
// variable's name or file belongs.
func (s *secretFlags) read(getenv func(string) string) (lead.Secret, error) {
	var names []string
	for _, src := range s.given {
		if !slices.Contains(names, "--"+src.flag) {
			names = append(names, "--"+src.flag)
		}
	}
	switch {
	case len(s.given) == 0:
		return "", fmt.Errorf("--%s VAR or --%s FILE is required (the secret is never given on the command line)", s.sources[0].flag, s.sources[1].flag)
	case len(names) > 1:
		return "", fmt.Errorf("give only one of %s", strings.Join(names, " and "))
	case len(s.given) > 1:
		return "", fmt.Errorf("give %s once", names[0])
	}
	src := s.given[0]
	if src.value == "" {
		if src.fromFile {
			return "", fmt.Errorf("--%s: give the path of a file", src.flag)
		}
		return "", fmt.Errorf("--%s: give the name of an environment variable", src.flag)
	}
	if !src.fromFile {
		secret := strings.TrimSpace(getenv(src.value))
		if secret == "" {
			return "", fmt.Errorf("--%s: the environment variable named is unset or empty (give the variable's name, not the secret)", src.flag)
		}
		return lead.Secret(secret), nil
	}
	data, err := os.ReadFile(src.value)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return "", fmt.Errorf("--%s: cannot read the file named: %v", src.flag, err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", fmt.Errorf("--%s: the file named is empty", src.flag)
	}
	return lead.Secret(secret), nil
}
