package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// The bounds of GET /api/v1/actions: one question folds every instrument up
// to its period's end, so the period and the rows returned are bounded.
const (
	// MaxFeedDays is the longest period the feed covers, both ends included.
	MaxFeedDays = 366
	// DefaultFeedLimit and MaxFeedLimit bound the rows of one answer.
	DefaultFeedLimit = 200
	MaxFeedLimit     = 2000
)

// feedRow is one rating change as GET /api/v1/actions answers it. Every key
// is always present, null where it does not apply.
type feedRow struct {
	Instrument   string  `json:"instrument"`
	Currency     string  `json:"currency"`
	Analyst      string  `json:"analyst"`
	Firm         *string `json:"firm"`
	EventID      string  `json:"event_id"`
	Type         string  `json:"type"`
	EffectiveAt  string  `json:"effective_at"`
	RecordedAt   string  `json:"recorded_at"`
	Rating       *string `json:"rating"`
	BrokerRating *string `json:"broker_rating"`
	RatingAction *string `json:"rating_action"`
	// Target and PreviousTarget are exact decimals written as bare JSON
	// numbers, as every figure of the API is.
	Target *json.Number `json:"target"`
	// PreviousTarget is the held target a raised, cut or maintained target
	// compared with, adjusted to this event's basis (CONTRACT sections 7
	// and 8) and rounded to 6 dp; PreviousTargetEventID set it.
	PreviousTarget        *json.Number `json:"previous_target"`
	PreviousTargetEventID *string      `json:"previous_target_event_id"`
	TargetAction          *string      `json:"target_action"`
}

// feedAnswer is the answer to GET /api/v1/actions.
type feedAnswer struct {
	From    string    `json:"from"`
	To      string    `json:"to"`
	KnownAt string    `json:"known_at"`
	Limit   int       `json:"limit"`
	Total   int       `json:"total"` // changes in the period; the answer holds the newest limit
	Actions []feedRow `json:"actions"`
}

// getActions is the rating-change feed across instruments (issue 16 item
// 8): every rating, revision and withdrawal effective in [from, to] as known
// at known_at, newest first. A bare date as from means the start of that
// day, as to means its end, so from=2025-09-01&to=2025-09-30 is the whole
// of September.
func (s *Server) getActions(w http.ResponseWriter, r *http.Request, c call) error {
	from, to, err := parseRange(c, true)
	if err != nil {
		return err
	}
	if to.Sub(from) >= MaxFeedDays*24*time.Hour {
		return refuse(http.StatusBadRequest, "from", "from %s to %s spans more than %d days; ask for at most %d days at a time",
			domain.Quote(c.get("from")), domain.Quote(c.get("to")), MaxFeedDays, MaxFeedDays)
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	limit := DefaultFeedLimit
	if c.has("limit") {
		n, err := strconv.Atoi(c.get("limit"))
		if err != nil || n < 1 || n > MaxFeedLimit {
			return refuse(http.StatusBadRequest, "limit", "limit %s must be a whole number from 1 to %d", domain.Quote(c.get("limit")), MaxFeedLimit)
		}
		limit = n
	}
	feed, err := s.l.Feed(r.Context(), from, to, pt.query.KnownAt, limit)
	if err != nil {
		return err
	}
	answer := feedAnswer{From: domain.FormatTime(from), To: domain.FormatTime(to), KnownAt: domain.FormatTime(pt.query.KnownAt),
		Limit: limit, Total: feed.Total, Actions: make([]feedRow, len(feed.Changes))}
	for i, ch := range feed.Changes {
		answer.Actions[i] = feedRowOf(ch)
	}
	body, err := json.Marshal(answer)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	writeCompressible(w, r, http.StatusOK, "application/json; charset=utf-8", append(body, '\n'))
	return nil
}

// feedRowOf writes one change of the feed.
func feedRowOf(ch ledger.FeedChange) feedRow {
	ev := ch.Event
	row := feedRow{Instrument: string(ch.Instrument), Currency: string(ch.Currency), EventID: ev.ID.String(), Type: ev.Event.Type(),
		EffectiveAt: domain.FormatTime(ev.Event.Effective()), RecordedAt: domain.FormatTime(ev.RecordedAt),
		Firm: orNull(ch.Firm), RatingAction: orNull(string(ch.Actions.Rating)), TargetAction: orNull(string(ch.Actions.Target))}
	switch e := ev.Event.(type) {
	case domain.RatingAdded:
		row.Analyst = string(e.Analyst)
		row.Rating, row.BrokerRating = orNull(e.Rating.String()), orNull(e.BrokerRating)
		if e.Target != nil {
			row.Target = number(e.Target.String())
		}
	case domain.TargetRevised:
		row.Analyst = string(e.Analyst)
		row.Target = number(e.Target.String())
	case domain.RatingWithdrawn:
		row.Analyst = string(e.Analyst)
	}
	if ch.Compared.Compares() {
		row.PreviousTarget = number(domain.FormatMicros(ch.Compared.AdjustedMicros()))
		row.PreviousTargetEventID = orNull(ch.Compared.Event.String())
	}
	return row
}

// orNull is nil for "", so that an absent value is JSON null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// number writes an exact decimal's text as a bare JSON number.
func number(text string) *json.Number {
	n := json.Number(text)
	return &n
}
