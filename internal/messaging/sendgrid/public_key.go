package sendgrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
)

// ParsePublicKey reads the base64 (DER, SubjectPublicKeyInfo) P-256 key
// SendGrid shows for its signed event webhook. Config validation calls it
// at start-up, and NewEventWebhook parses with it. sendgrid-go's own
// helper (eventwebhook.ConvertPublicKeyBase64ToECDSA) panics on a key that
// is not ECDSA and says nothing an operator can act on, so the key is
// parsed here with an error that says what it must be, for the caller to
// prefix with the field's name.
func ParsePublicKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("must be base64")
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("must be a DER-encoded public key")
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("must be an ECDSA P-256 public key")
	}
	return ec, nil
}
