package backfill

import (
	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// idNamespace is the UUID v5 namespace of content-derived event ids. It must
// never change: ids derived from it are stored in ledgers, and re-importing
// a file relies on deriving the same ids again.
var idNamespace = uuid.MustParse("3d0c5b0e-8f4b-5c1a-9d59-6a3c0e9b7f21")

// ContentID derives a row's event id from its canonical content, for rows
// without an explicit id: the same fact always gets the same id, however its
// amounts, symbol and currency are spelled ("165.7" or 165.70, "baba" or
// "BABA"), so importing a file again writes nothing the second time.
//
// The content is the event's stored JSON (instrument, analyst, normalised
// rating, broker word, exact amounts, currency, effective time). A
// retraction is identified by what it retracts alone: retracting the same
// event again, even with other words, is the same fact.
func ContentID(cmd domain.Command) (uuid.UUID, error) {
	if r, ok := cmd.(domain.Retract); ok {
		return uuid.NewSHA1(idNamespace, []byte("retract|"+string(r.Instrument)+"|"+r.EventID.String())), nil
	}
	e, err := domain.Propose(cmd)
	if err != nil {
		return uuid.Nil, err
	}
	data, err := domain.EncodeEvent(e)
	if err != nil {
		return uuid.Nil, err
	}
	return uuid.NewSHA1(idNamespace, append([]byte(e.Type()+"|"), data...)), nil
}
