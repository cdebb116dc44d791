package fake

import "bytes"

// InvalidUTF8 is a stand-in a test puts in any text field of a CRM fake's
// record (a name, a complaint, a phone number) to have the fake send the
// byte 0xFF there, which is not UTF-8: what a CRM that stored Latin-1 text
// would send. A stand-in is needed because the fakes keep records as Go
// values and encoding/json writes every invalid byte as U+FFFD; the fakes
// swap the stand-in for the raw byte as the last step before the wire.
// U+10FFFF is a noncharacter no real text holds.
const InvalidUTF8 = "\U0010FFFF"

var invalidUTF8Wire = []byte(InvalidUTF8)

// WireText puts the raw bytes InvalidUTF8 stands for into an encoded
// answer; every CRM fake calls it last, before the bytes go out.
func WireText(b []byte) []byte {
	if !bytes.Contains(b, invalidUTF8Wire) {
		return b
	}
	return bytes.ReplaceAll(b, invalidUTF8Wire, []byte{0xff})
}
