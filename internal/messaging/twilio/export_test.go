package twilio

// ValidSignature is validSignature, for the official vectors of Twilio's
// SDKs, whose forms are not messages.
var ValidSignature = validSignature
