package faketwilio

import (
	"fmt"
	"strconv"
	"time"
)

// dateLayout is the RFC 2822 form Twilio uses for every date in the
// 2010-04-01 API ("Thu, 24 Aug 2023 05:01:45 +0000").
const dateLayout = time.RFC1123Z

// messageResource is the Message resource as Twilio renders it;
// nullable fields are pointers so they encode as null.
type messageResource struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// resource renders m. The create answer (sent false) shows the message
// still queued; later reads show it sent at its creation time.
func (t *API) resource(m storedMessage, sent bool) messageResource {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", t.accountSID, m.Sid)
	created := m.CreatedAt.Format(dateLayout)
	res := messageResource{
		AccountSID:      t.accountSID,
		APIVersion:      "2010-04-01",
		Body:            m.Body,
		DateCreated:     created,
		DateUpdated:     created,
		Direction:       "outbound-api",
		NumMedia:        "0",
		NumSegments:     strconv.Itoa(m.numSegments),
		PriceUnit:       "USD",
		Sid:             m.Sid,
		Status:          "queued",
		SubresourceURIs: map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
		To:              m.To,
		URI:             uri + ".json",
	}
	if m.From != "" {
		res.From = &m.From
	}
	if m.MessagingServiceSID != "" {
		res.MessagingServiceSID = &m.MessagingServiceSID
		if m.From == "" {
			// Twilio picks the sender from the service's pool later and
			// counts segments only then.
			res.Status = "accepted"
			res.NumSegments = "0"
		}
	}
	if sent {
		res.Status = "sent"
		res.DateSent = &created
		res.NumSegments = strconv.Itoa(m.numSegments)
	}
	if sent && m.errorCode != 0 {
		// The carrier's refusal is the message's last word.
		status, code := finalStatusOf(m.errorCode)
		res.Status, res.ErrorCode = status, &code
	}
	return res
}
