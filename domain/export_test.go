package domain

// DecodeStrictForTest exposes the encoding/json decoder to the tests, which
// check that the fast decoder of the canonical form agrees with it.
var DecodeStrictForTest = decodeStrict
