package credentials

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/google/uuid"
)

// unsubscribeLabel binds an unsubscribe token's MAC to its purpose: no
// other HMAC under the same key (a booking link) is ever a valid one.
const unsubscribeLabel = "leadorch/unsubscribe/v1"

// unsubscribeVersion is the token layout's first byte.
const unsubscribeVersion = 1

// unsubscribeMACLen is the MAC's length in the token: 160 bits, as
// LinkToken's, which no one guesses.
const unsubscribeMACLen = 20

// MaxUnsubscribeTokenLen bounds a token the endpoint reads: a key id of 64
// and a step name of 64 characters make 218 characters of base64.
const MaxUnsubscribeTokenLen = 256

// ErrBadUnsubscribeToken is every way a token fails: malformed, signed by a
// key this fleet does not hold, altered, or for another address. One error
// for all, so the endpoint tells a forger nothing.
var ErrBadUnsubscribeToken = errors.New("not a valid unsubscribe token")

// UnsubscribeRef is what an unsubscribe token names: one email (the step
// of a lead, the outbox row's natural key) of one tenant. The address it
// went to is not in the token (a URL is logged by every proxy on the way);
// the MAC covers it, so the token works for the address the email was
// sent to and for no other.
type UnsubscribeRef struct {
	TenantID uuid.UUID
	LeadID   uuid.UUID
	Step     string
	keyID    string
	mac      []byte
}

// UnsubscribeToken is the token of the List-Unsubscribe URL and body link
// of step's email to address: base64url (no padding) of a version byte,
// the current key's id, the tenant and lead ids and the step name, then
// the first 20 bytes of HMAC-SHA256 under that key of all of it and the
// lower-cased address. It is deterministic, like LinkToken, so every
// attempt of a message renders the same body. It carries its key's id, so
// it keeps working after a rotation for as long as that key stays in
// credentials.keys (CAN-SPAM wants an opt-out to work 30 days after the
// email: keep a retired key that long).
func (k *Keyring) UnsubscribeToken(tenantID, leadID uuid.UUID, step, address string) string {
	payload := unsubscribePayload(k.current, tenantID, leadID, step)
	sum := unsubscribeMAC(k.raw[k.current], payload, address)
	return base64.RawURLEncoding.EncodeToString(append(payload, sum...))
}

// ReadUnsubscribeToken decodes what a token names, without checking its
// MAC (which needs the address: CheckUnsubscribeToken). Anything that is
// not a token's layout is ErrBadUnsubscribeToken.
func ReadUnsubscribeToken(token string) (UnsubscribeRef, error) {
	if token == "" || len(token) > MaxUnsubscribeTokenLen {
		return UnsubscribeRef{}, ErrBadUnsubscribeToken
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	// 2 bytes of header, a key id of at least 1, two ids, a step of at
	// least 1 and the MAC.
	if err != nil || len(b) < 2+1+32+1+unsubscribeMACLen || b[0] != unsubscribeVersion {
		return UnsubscribeRef{}, ErrBadUnsubscribeToken
	}
	n := int(b[1])
	body := b[:len(b)-unsubscribeMACLen]
	if n == 0 || 2+n+32 >= len(body) {
		return UnsubscribeRef{}, ErrBadUnsubscribeToken
	}
	keyID := string(body[2 : 2+n])
	tenantID, _ := uuid.FromBytes(body[2+n : 2+n+16])
	leadID, _ := uuid.FromBytes(body[2+n+16 : 2+n+32])
	step := string(body[2+n+32:])
	if !keyIDPattern.MatchString(keyID) || tenantID == uuid.Nil || leadID == uuid.Nil {
		return UnsubscribeRef{}, ErrBadUnsubscribeToken
	}
	return UnsubscribeRef{TenantID: tenantID, LeadID: leadID, Step: step, keyID: keyID,
		mac: b[len(b)-unsubscribeMACLen:]}, nil
}

// CheckUnsubscribeToken reports (nil) whether ref, read from a token, was
// signed by one of this keyring's keys for address; ErrBadUnsubscribeToken
// otherwise. The comparison takes constant time.
func (k *Keyring) CheckUnsubscribeToken(ref UnsubscribeRef, address string) error {
	raw, ok := k.raw[ref.keyID]
	if !ok {
		return ErrBadUnsubscribeToken
	}
	want := unsubscribeMAC(raw, unsubscribePayload(ref.keyID, ref.TenantID, ref.LeadID, ref.Step), address)
	if !hmac.Equal(want, ref.mac) {
		return ErrBadUnsubscribeToken
	}
	return nil
}

// unsubscribePayload is the token's signed layout before its MAC.
func unsubscribePayload(keyID string, tenantID, leadID uuid.UUID, step string) []byte {
	b := make([]byte, 0, 2+len(keyID)+32+len(step))
	b = append(b, unsubscribeVersion, byte(len(keyID)))
	b = append(b, keyID...)
	b = append(b, tenantID[:]...)
	b = append(b, leadID[:]...)
	return append(b, step...)
}

// unsubscribeMAC signs payload and the address (lower-cased: the outbox
// keeps the address as the CRM gave it, and mail is delivered ignoring
// case).
func unsubscribeMAC(key, payload []byte, address string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsubscribeLabel + "\x00"))
	mac.Write(payload)
	mac.Write([]byte("\x00" + strings.ToLower(address)))
	return mac.Sum(nil)[:unsubscribeMACLen]
}
