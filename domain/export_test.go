package domain

// DecodeStrictForTest exposes the encoding/json decoder to the tests, which
// check that the fast decoder of the canonical form agrees with it.
var DecodeStrictForTest = decodeStrict

// DecodeCanonicalForTest and MetadataCanonicalForTest expose the fast
// decoders, which the example round trips require to accept every example
// (DecodeEvent would fall back to encoding/json silently).
var (
	DecodeCanonicalForTest   = decodeCanonical
	MetadataCanonicalForTest = metadataCanonical
)

// EventTypesForTest lists the names of the event types the decoders know.
func EventTypesForTest() []string {
	names := make([]string, len(eventTypes))
	for i, e := range eventTypes {
		names[i] = e.Type()
	}
	return names
}

// EncodeCanonicalForTest and EncodeMetadataForTest expose the fast
// encoders, which the tests hold to encoding/json's bytes and require to
// accept every example (EncodeEvent would fall back to encoding/json
// silently).
var (
	EncodeCanonicalForTest = encodeCanonical
	EncodeMetadataForTest  = encodeMetadata
)
