package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// MaxEventRows is the most rows one POST /api/v1/events may hold. Each row
// is judged against its instrument's history in memory and the batch is one
// transaction; larger backfills belong to POST /api/v1/import, which sorts
// and writes in bounded memory.
const MaxEventRows = 1000

// inputRow is one row of a POST /api/v1/events body: the fields of an
// import row (CONTRACT section 5), read but not yet judged.
type inputRow struct {
	index  int
	row    domain.Row
	id     uuid.UUID // the row's explicit id, or uuid.Nil
	source string
	fault  *rowFault // set when a field could not be read
}

// rowFault is why one row was refused.
type rowFault struct {
	field, reason string
	conflict      bool // an id already taken: 409 rather than 422
}

// decodeRows reads a JSON array of import rows. A body that is not such an
// array is one error (400); a row with a field that cannot be read keeps
// the fault for its own result, so every row gets an answer.
func decodeRows(body io.Reader) ([]inputRow, error) {
	dec := json.NewDecoder(body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, bodyError(err, "the body must be a JSON array of import rows, such as "+
			`[{"type":"rating","instrument":"BABA","analyst":"a@firm","rating":"buy","target":"170","currency":"USD","at":"2025-09-15"}]`)
	}
	var rows []inputRow
	for dec.More() {
		if len(rows) == MaxEventRows {
			return nil, refuse(http.StatusRequestEntityTooLarge, "", "the body holds more than %d rows; send larger backfills to POST /api/v1/import", MaxEventRows)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bodyError(err, fmt.Sprintf("row %d is not valid JSON", len(rows)))
		}
		rows = append(rows, parseRow(len(rows), raw))
	}
	if _, err := dec.Token(); err != nil {
		return nil, bodyError(err, "the JSON array of rows is not closed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bodyError(err, "the body holds more than one JSON array")
	}
	if len(rows) == 0 {
		return nil, refuse(http.StatusBadRequest, "", "the body holds no rows")
	}
	return rows, nil
}

// bodyError is a body that cannot be read: too large (413), too slow
// (408), broken off (499), or malformed (400).
func bodyError(err error, msg string) error {
	var (
		tooLarge *http.MaxBytesError
		cut      *bodyCutError
		api      *apiError // not valid gzip
	)
	if errors.As(err, &tooLarge) || errors.As(err, &cut) || errors.As(err, &api) {
		return err
	}
	return refuse(http.StatusBadRequest, "", "%s", msg)
}

// parseRow reads one row object: every value a string or a number (kept as
// its exact text, as the import reads numbers), or null for absent.
func parseRow(index int, raw json.RawMessage) (r inputRow) {
	// r is the named result so that the deferred checks below can still
	// refuse the row after a return.
	r = inputRow{index: index}
	// encoding/json quietly replaces invalid UTF-8 with U+FFFD; the import
	// refuses such a row, and so does the API, naming the field when it can.
	valid := utf8.Valid(raw)
	defer func() {
		if !valid && r.fault == nil {
			r.fault = &rowFault{reason: "the row is not text (invalid UTF-8 or NUL bytes)"}
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		r.fault = &rowFault{reason: "the row is not a JSON object"}
		return r
	}
	defer func() {
		if r.fault == nil {
			if err := domain.CheckFreeText("source", r.source); err != nil {
				r.fault = &rowFault{field: "source", reason: err.Error()}
			}
		}
	}()
	var values domain.RowValues
	defer func() { r.row, r.source = values.Row(), values[domain.FieldSource] }() // runs first of the deferred

	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			r.fault = &rowFault{reason: "the row is not valid JSON"}
			return r
		}
		key, _ := tok.(string) // object keys are always strings
		field := domain.RowFieldIndex([]byte(key))
		if field < 0 {
			r.fault = &rowFault{field: domain.Shorten(key), reason: domain.Quote(key) + " is not a field of an import row"}
			return r
		}
		if seen[key] {
			r.fault = &rowFault{field: key, reason: fmt.Sprintf("%s is given twice", key)}
			return r
		}
		seen[key] = true
		value, err := dec.Token()
		var text string
		switch v := value.(type) {
		case string:
			text = v
		case json.Number:
			text = v.String()
		case nil:
			if err != nil {
				r.fault = &rowFault{reason: "the row is not valid JSON"}
				return r
			}
		default: // a boolean, an object or an array
			r.fault = &rowFault{field: key, reason: fmt.Sprintf("%s must be a string or a number", key)}
			return r
		}
		if strings.IndexByte(text, 0) >= 0 || (!valid && strings.ContainsRune(text, utf8.RuneError)) {
			// As the import reads it: a NUL (escaped as \u0000) is no text.
			r.fault = &rowFault{field: key, reason: fmt.Sprintf("%s is not text (invalid UTF-8 or NUL bytes)", key)}
			return r
		}
		if field != domain.FieldID {
			values[field] = text
		} else if text != "" {
			id, err := uuid.Parse(text)
			if err != nil {
				r.fault = &rowFault{field: "id", reason: "id " + domain.Quote(text) + " is not a UUID"}
				return r
			}
			r.id = id
		}
	}
	return r
}
