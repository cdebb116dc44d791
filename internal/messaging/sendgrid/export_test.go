package sendgrid

// DecodeEvents is decodeEvents, for the decoder's fuzz target, which need
// not sign every input.
var DecodeEvents = decodeEvents
