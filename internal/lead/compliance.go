package lead

// Compliance are the rules carriers, inboxes and the law hold a shop to,
// as its settings (stored as JSON, these tags): where it texts, how often
// it may text one number, the days it sends no follow-up, and what its
// follow-up email must carry. The zero value is every default, each the
// safe one.
type Compliance struct {
	// PhoneRegions are the regions (ISO 3166-1 alpha-2, "US", "CA") whose
	// numbers the shop's leads may have: a number is parsed for them and
	// must be valid in one. Empty: US and Canada.
	PhoneRegions []string `json:"phone_regions,omitempty"`
	// TextCap bounds the texts to one number in any rolling window; the
	// zero value is the default (the strictest state rule encoded).
	TextCap TextCap `json:"text_cap,omitzero"`
	// ClosedDays are dates ("2026-12-25"), in the shop's time zone, on
	// which no follow-up goes out: one due then moves to the next open
	// day.
	ClosedDays []string `json:"closed_days,omitempty"`
	// AnswerOnClosedDays lets the immediate answer to a new inquiry go on
	// a closed day too (default: it waits, like a follow-up).
	AnswerOnClosedDays bool `json:"answer_on_closed_days,omitempty"`
	// PostalAddress is the shop's postal address, which every follow-up
	// email carries (CAN-SPAM); a shop without one sends no follow-up
	// email.
	PostalAddress string `json:"postal_address,omitempty"`
	// ASMGroupID is the shop's SendGrid unsubscribe group (Advanced
	// Suppression Manager) for its email; 0: none.
	ASMGroupID int `json:"asm_group_id,omitempty"`
}

// TextCap is at most Texts texts to one number in any WindowHours hours.
// Zero fields are the default.
type TextCap struct {
	Texts       int `json:"texts,omitempty"`
	WindowHours int `json:"window_hours,omitempty"`
}
