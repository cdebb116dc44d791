package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
)

// ParseECDSAPublicKey reads the base64 (DER, SubjectPublicKeyInfo) P-256
// key SendGrid shows for its signed event webhook. sendgrid-go's own helper
// panics on a key that is not ECDSA, so the key is parsed here, once, at
// start-up, with an error that says what is wrong.
func ParseECDSAPublicKey(b64 string) (*ecdsa.PublicKey, error) {
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
