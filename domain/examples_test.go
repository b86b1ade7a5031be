package domain_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// TestExamplesSetEveryField: a field added to an event, or to the metadata,
// without a value in Examples fails here, so the round trips below (and the
// snapshot codec's) cover it.
func TestExamplesSetEveryField(t *testing.T) {
	for i, r := range domain.Examples() {
		assert.EqualValues(t, i, r.Version, "examples are in stream order")
		assert.NotZero(t, r.ID)
		assert.False(t, r.RecordedAt.IsZero())
		requireEveryField(t, reflect.ValueOf(r.Meta))
		requireEveryField(t, reflect.ValueOf(r.Event))
	}
}

// requireEveryField checks that every exported field of the struct v is
// set, through pointers.
func requireEveryField(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f, field := v.Type().Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		if field.Kind() == reflect.Pointer && !field.IsNil() {
			field = field.Elem()
		}
		assert.False(t, field.IsZero(), "%s.%s has no value in domain.Examples", v.Type().Name(), f.Name)
	}
}

// TestExamplesCoverEveryType: one example per event type the decoders know.
func TestExamplesCoverEveryType(t *testing.T) {
	var got []string
	for _, r := range domain.Examples() {
		got = append(got, r.Event.Type())
	}
	assert.ElementsMatch(t, domain.EventTypesForTest(), got)
}

// TestExamplesRoundTripJSON: every example survives the canonical JSON, read
// by the fast decoder (which must accept it) and by encoding/json alike, and
// its metadata survives the metadata's fast decoder.
func TestExamplesRoundTripJSON(t *testing.T) {
	for _, r := range domain.Examples() {
		typ := r.Event.Type()
		data, err := domain.EncodeEvent(r.Event)
		require.NoError(t, err, typ)
		fast, ok := domain.DecodeCanonicalForTest(typ, data)
		require.True(t, ok, "%s: the fast decoder refused %s", typ, data)
		assert.Equal(t, r.Event, fast, "%s through the fast decoder", typ)
		strict, err := domain.DecodeStrictForTest(typ, data)
		require.NoError(t, err, typ)
		assert.Equal(t, r.Event, strict, "%s through encoding/json", typ)

		meta, err := json.Marshal(r.Meta)
		require.NoError(t, err)
		got, ok := domain.MetadataCanonicalForTest(meta)
		require.True(t, ok, "the metadata's fast decoder refused %s", meta)
		assert.Equal(t, r.Meta, got)
	}
}
