package domain

import (
	"strings"

	"github.com/google/uuid"
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
// retraction's is the event it retracts and its reason (without surrounding
// spaces): the same row again is then the same id, a duplicate, while a
// second retraction of the event, for another reason, is another id and is
// refused as the command line refuses it. Its instrument is left out, since
// a row may omit it and the retracted event fixes it anyway.
func ContentID(cmd Command) (uuid.UUID, error) {
	if r, ok := cmd.(Retract); ok {
		return uuid.NewSHA1(idNamespace, []byte("retract|"+r.EventID.String()+"|"+strings.TrimSpace(r.Reason))), nil
	}
	e, err := Propose(cmd)
	if err != nil {
		return uuid.Nil, err
	}
	data, err := EncodeEvent(e)
	if err != nil {
		return uuid.Nil, err
	}
	return uuid.NewSHA1(idNamespace, append([]byte(e.Type()+"|"), data...)), nil
}

// RepeatsStoredRetraction reports whether a retraction row without an
// explicit id repeats the stored retraction stored: the same reason, under
// the id that versions before retraction ids covered their reason derived
// for it (from the instrument and the retracted event alone). Without this,
// importing again a file that an earlier version imported would refuse its
// retraction rows as retracting an event already retracted, where the
// import promises to skip them as duplicates.
func RepeatsStoredRetraction(r Retract, stored Recorded) bool {
	e, ok := stored.Event.(EventRetracted)
	former := uuid.NewSHA1(idNamespace, []byte("retract|"+string(e.Instrument)+"|"+r.EventID.String()))
	return ok && e.Retracted == r.EventID && stored.ID == former && e.Reason == strings.TrimSpace(r.Reason)
}
