package serve

import (
	"errors"
	"io"
	"net/http"

	"github.com/consensus-ledger/consensus/backfill"
)

// MaxEventRows is the most rows one POST /api/v1/events may hold. Each row
// is judged against its instrument's history in memory and the batch is one
// transaction; larger backfills belong to POST /api/v1/import, which sorts
// and writes in bounded memory.
const MaxEventRows = 1000

// inputRow is one row of a POST /api/v1/events body: the fields of an
// import row (CONTRACT section 5), read but not yet judged.
type inputRow struct {
	index int
	line  backfill.Line
	fault *rowFault // set when the row could not be read
}

// rowFault is why one row was refused.
type rowFault struct {
	field, reason string
	conflict      bool // an id already taken: 409 rather than 422
}

// decodeRows reads a JSON array of import rows with the import's row
// reader (backfill.ArrayReader), so each row is read exactly as the same
// object on a line of a JSON Lines file: a row that cannot be read keeps
// the import's reject, in a sentence, for its own result, so every row gets
// an answer. A body that is not such an array, or that holds a row that is
// not JSON at all, is one error (400).
func decodeRows(body io.Reader) ([]inputRow, error) {
	ar := backfill.NewArrayReader(body)
	var rows []inputRow
	for {
		line, rej, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var syntax *backfill.ArraySyntaxError
		switch {
		case errors.As(err, &syntax) && syntax.Row == 0:
			return nil, refuse(http.StatusBadRequest, "", "%s", syntax.Reason)
		case errors.As(err, &syntax):
			// Rows are indexed from 0 in answers, as in the array.
			return nil, refuse(http.StatusBadRequest, "", "row %d %s", syntax.Row-1, syntax.Reason)
		case err != nil:
			return nil, bodyError(err, "the body must be a JSON array of import rows, such as "+
				`[{"type":"rating","instrument":"BABA","analyst":"a@firm","rating":"buy","target":"170","currency":"USD","at":"2025-09-15"}]`)
		}
		if len(rows) == MaxEventRows {
			return nil, refuse(http.StatusRequestEntityTooLarge, "", "the body holds more than %d rows; send larger backfills to POST /api/v1/import", MaxEventRows)
		}
		in := inputRow{index: len(rows), line: line}
		if rej != nil {
			in.fault = &rowFault{field: rej.Field, reason: backfill.ReaderSentence(rej)}
		}
		rows = append(rows, in)
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
