package domain

// The fields of an import row (CONTRACT section 5), as indexes into
// RowValues. Every reader of rows (the import's JSON Lines and CSV, the
// API's JSON arrays) and the generator that writes them take the field list
// from here, so a field is added in one place.
const (
	FieldType = iota
	FieldInstrument
	FieldAnalyst
	FieldFirm
	FieldRating
	FieldTarget
	FieldPrice
	FieldCurrency
	FieldAt
	FieldID
	FieldEventID
	FieldReason
	FieldSource // the generator writes every field before it (gen.Columns)
	FieldRatio  // after FieldSource: generated files without splits keep their columns
	NumRowFields
)

// RowFieldNames are the import fields by index, in the contract's order.
var RowFieldNames = [NumRowFields]string{"type", "instrument", "analyst", "firm", "rating", "target", "price",
	"currency", "at", "id", "event_id", "reason", "source", "ratio"}

// RowFieldIndex returns the index of the import field called name, or -1.
// It takes bytes so that a reader scanning a line in place looks a key up
// without converting it to a string.
func RowFieldIndex(name []byte) int {
	switch string(name) { // compiled without converting name to a string
	case "type":
		return FieldType
	case "instrument":
		return FieldInstrument
	case "analyst":
		return FieldAnalyst
	case "firm":
		return FieldFirm
	case "rating":
		return FieldRating
	case "target":
		return FieldTarget
	case "price":
		return FieldPrice
	case "currency":
		return FieldCurrency
	case "at":
		return FieldAt
	case "id":
		return FieldID
	case "event_id":
		return FieldEventID
	case "reason":
		return FieldReason
	case "source":
		return FieldSource
	case "ratio":
		return FieldRatio
	}
	return -1
}

// RowValues is a row's fields as text, indexed by the Field constants, ""
// for a field not given: what every row reader fills in.
type RowValues [NumRowFields]string

// Row is the row the values describe. The id and the source are not facts
// of the row's command: readers take them from FieldID and FieldSource.
func (v *RowValues) Row() Row {
	return Row{
		Type:       v[FieldType],
		Instrument: v[FieldInstrument],
		Analyst:    v[FieldAnalyst],
		Firm:       v[FieldFirm],
		Rating:     v[FieldRating],
		Target:     v[FieldTarget],
		Price:      v[FieldPrice],
		Currency:   v[FieldCurrency],
		At:         v[FieldAt],
		EventID:    v[FieldEventID],
		Reason:     v[FieldReason],
		Ratio:      v[FieldRatio],
	}
}
