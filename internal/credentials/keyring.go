// Package credentials seals tenants' CRM secrets for storage and opens them
// for the one call that needs them. A secret is encrypted with AES-256-GCM
// under a named key; the key's id is stored beside the ciphertext, so keys
// can be rotated: add a new key first in the list, re-seal every tenant
// (`enqueue tenant rotate-keys`), then drop the old key.
package credentials

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Keyring holds the keys secrets are sealed with. The first key seals; every
// key opens what it sealed.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
	// raw keeps each key's bytes for LinkToken's HMAC.
	raw   map[string][]byte
	order []string
}

// keyIDPattern keeps key ids short and printable: they are stored in every
// tenant row and shown to operators.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseKeyring reads the credentials.keys setting: comma-separated
// ID=KEY pairs, KEY being 32 random bytes in standard base64 (for example
// from `openssl rand -base64 32`). The first pair is the current key.
// Errors never quote a key.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("no keys: set credentials.keys (LEADORCH_CREDENTIALS_KEYS) to ID=BASE64KEY, a 32-byte key such as `openssl rand -base64 32` prints")
	}
	k := &Keyring{keys: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, pair := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, fmt.Errorf("key %d: want ID=BASE64KEY", i+1)
		}
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: id %q must be 1-64 letters, digits, '.', '_' or '-'", i+1, id)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("key %d: id %q appears twice", i+1, id)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: not standard base64", id)
		}
		if len(raw) != 32 {
			return nil, fmt.Errorf("key %q: is %d bytes, AES-256 needs 32", id, len(raw))
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.keys[id] = aead
		k.raw[id] = raw
		k.order = append(k.order, id)
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// CurrentKeyID is the id of the key new secrets are sealed with.
func (k *Keyring) CurrentKeyID() string { return k.current }

// KeyIDs lists the configured key ids, current first.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.order...) }

// Seal encrypts secret for tenantID with the current key. The tenant id is
// authenticated with it, so a ciphertext copied onto another tenant's row
// does not open.
func (k *Keyring) Seal(tenantID uuid.UUID, secret lead.Secret) (lead.SealedSecret, error) {
	return k.seal(crmSecretLabel, tenantID, secret)
}

// SealWebhook seals a tenant's webhook signing secret. It is bound to its
// purpose as well as its tenant: a CRM secret's ciphertext copied into the
// webhook column (or the reverse) does not open.
func (k *Keyring) SealWebhook(tenantID uuid.UUID, secret lead.Secret) (lead.SealedSecret, error) {
	return k.seal(webhookSecretLabel, tenantID, secret)
}

// OpenWebhook opens what SealWebhook sealed.
func (k *Keyring) OpenWebhook(tenantID uuid.UUID, s lead.SealedSecret) (lead.Secret, error) {
	return k.open(webhookSecretLabel, tenantID, s)
}

// The purposes a secret is sealed for, authenticated with it.
const (
	crmSecretLabel     = "leadorch/crm-secret/v1"
	webhookSecretLabel = "leadorch/webhook-secret/v1"
)

func (k *Keyring) seal(label string, tenantID uuid.UUID, secret lead.Secret) (lead.SealedSecret, error) {
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return lead.SealedSecret{}, fmt.Errorf("error reading random nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, []byte(secret.Reveal()), additionalData(label, tenantID, k.current))
	return lead.SealedSecret{KeyID: k.current, Ciphertext: ct}, nil
}

// ErrUnknownKey means a secret was sealed with a key the keyring does not
// hold (removed before a rotation finished, or a different fleet's key).
var ErrUnknownKey = errors.New("sealed with a key that is not configured")

// Open decrypts a secret sealed for tenantID.
func (k *Keyring) Open(tenantID uuid.UUID, s lead.SealedSecret) (lead.Secret, error) {
	return k.open(crmSecretLabel, tenantID, s)
}

func (k *Keyring) open(label string, tenantID uuid.UUID, s lead.SealedSecret) (lead.Secret, error) {
	if s.IsZero() {
		return "", nil
	}
	aead, ok := k.keys[s.KeyID]
	if !ok {
		return "", fmt.Errorf("key %q: %w (configured: %s)", s.KeyID, ErrUnknownKey, strings.Join(k.order, ", "))
	}
	n := aead.NonceSize()
	if len(s.Ciphertext) < n+aead.Overhead() {
		return "", errors.New("sealed secret is truncated")
	}
	pt, err := aead.Open(nil, s.Ciphertext[:n], s.Ciphertext[n:], additionalData(label, tenantID, s.KeyID))
	if err != nil {
		return "", fmt.Errorf("sealed secret does not open with key %q: it was altered, or sealed for another tenant or purpose", s.KeyID)
	}
	return lead.Secret(pt), nil
}

// SealFor seals secret for t, giving t an id first when it has none (the
// id is part of what is authenticated).
func (k *Keyring) SealFor(t *lead.Tenant, secret lead.Secret) error {
	if t.ID == uuid.Nil {
		t.ID = uuid.New()
	}
	sealed, err := k.Seal(t.ID, secret)
	if err != nil {
		return err
	}
	t.CRMSecret = sealed
	return nil
}

// OpenFor opens t's CRM secret.
func (k *Keyring) OpenFor(t lead.Tenant) (lead.Secret, error) {
	s, err := k.Open(t.ID, t.CRMSecret)
	if err != nil {
		return "", fmt.Errorf("error opening the CRM secret of tenant %s: %w", t.Name, err)
	}
	return s, nil
}

func additionalData(label string, tenantID uuid.UUID, keyID string) []byte {
	return []byte(label + "\x00" + tenantID.String() + "\x00" + keyID)
}

// LinkToken is the booking-link token of a lead: lower-case base32 (no
// padding) of the first 20 bytes of HMAC-SHA256 under the current key of
// "booking-link\x00" + tenant id + lead id. It is deterministic, so every
// attempt of a message renders the same body (the outbox fixes a body
// once, and a retry must not mint a second link); 160 bits no one guesses.
// A key rotation makes new tokens; the store keeps old ones resolving
// until they expire, since it keeps only their hashes.
func (k *Keyring) LinkToken(tenantID, leadID uuid.UUID) string {
	mac := hmac.New(sha256.New, k.raw[k.current])
	mac.Write([]byte("booking-link\x00" + tenantID.String() + leadID.String()))
	sum := mac.Sum(nil)[:20]
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum))
}

// NewKeySpec returns a fresh random key in the credentials.keys form
// (ID=BASE64KEY): for development clusters, the demo and tests, and as the
// format an operator's `openssl rand -base64 32` fills in.
func NewKeySpec(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("key id %q must be 1-64 letters, digits, '.', '_' or '-'", id)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("error reading random key: %w", err)
	}
	return id + "=" + base64.StdEncoding.EncodeToString(key), nil
}
