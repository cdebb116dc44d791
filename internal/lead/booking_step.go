package lead

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// BookingTextStepPrefix starts the step name of a text confirming what a
// customer did on the booking page (a booking, a move, a cancel); no
// sequence step may use it.
const BookingTextStepPrefix = "booking-"

// BookingTextStep names the text confirming booking bookingID (change
// "") or one change of it (change: the change's form key): one text per
// event, short whatever the key's length, and naming no customer data.
func BookingTextStep(bookingID uuid.UUID, change string) string {
	sum := sha256.Sum256([]byte(bookingID.String() + "\x00" + change))
	return BookingTextStepPrefix + hex.EncodeToString(sum[:8])
}

// IsBookingText reports whether the step confirms a booking or its change.
func (s Step) IsBookingText() bool { return strings.HasPrefix(s.Name, BookingTextStepPrefix) }
