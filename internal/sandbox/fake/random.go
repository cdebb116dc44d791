package fake

import "math/rand/v2"

// Pick returns one of options, drawn from rng: the fakes seed names,
// vehicles and complaints this way, so a seeded fake repeats them.
func Pick(rng *rand.Rand, options ...string) string { return options[rng.IntN(len(options))] }

// RandomString returns n characters of alphabet drawn from rng (VINs,
// plates).
func RandomString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// NewRand is the generator a fake seeds its records from: seed and the
// fake's own stream, so that two fakes seeded alike still draw apart.
func NewRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}
