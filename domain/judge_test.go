package domain_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// A row retracted by another row of the batch is accepted, but is not in
// place for the rows after it: a revision of a rating the batch retracts
// finds no rating held (issue 11's case, where the API and the import used
// to disagree).
func TestJudgeARowRetractedInTheBatchIsNotInPlace(t *testing.T) {
	now := at(t, "2026-01-01")
	rated := domain.Entry{Line: 1, ID: testID(1), Cmd: rateCmd(t, domain.Buy, "2025-09-01")}
	revised := domain.Entry{Line: 2, ID: testID(2), Cmd: reviseCmd(t, "12", "2025-09-05")}
	retracted := domain.Entry{Line: 3, ID: testID(3), Cmd: domain.Retract{Instrument: baba, EventID: testID(1), Reason: "wrong analyst"}}
	v := domain.Judge(baba, nil, []domain.Entry{retracted, revised, rated}, now)
	require.NoError(t, v.Outcomes[2].Err)
	requireInvalid(t, v.Outcomes[1].Err, "analyst")
	require.NoError(t, v.Outcomes[0].Err)
	assert.Equal(t, []int{2, 0}, v.Append, "the rating, then its retraction")
	assert.Equal(t, []int{1}, v.Refused)
	assert.Equal(t, at(t, "2025-09-01"), v.Outcomes[0].Event.Effective(), "a retraction takes its target's time")
}

// The order rows come in does not change the verdict: the judge puts them
// in effective-time order itself.
func TestJudgeTheOrderOfRowsDoesNotMatter(t *testing.T) {
	now := at(t, "2026-01-01")
	s := newStream()
	stored := s.add(rating(t, "b@y", domain.Hold, "150", "2025-09-02"))
	batch := []domain.Entry{
		{Line: 1, ID: testID(1), Cmd: rateCmd(t, domain.Buy, "2025-09-01")},
		{Line: 2, ID: testID(2), Cmd: reviseCmd(t, "12", "2025-09-05")},
		{Line: 3, ID: testID(3), Cmd: withdrawCmd(t, "2025-09-06")},
		{Line: 4, ID: testID(4), Cmd: reviseCmd(t, "13", "2025-09-07")},
		{Line: 5, ID: testID(5), Cmd: domain.Retract{Instrument: baba, EventID: stored.ID, Reason: "typo"}},
		{Line: 6, ID: testID(6), Cmd: domain.Retract{Instrument: baba, EventID: stored.ID, Reason: "again"}},
		{Line: 7, ID: testID(1), Cmd: rateCmd(t, domain.Sell, "2025-09-01")},
	}
	want := domain.Judge(baba, s.history(), batch, now)
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		perm := rnd.Perm(len(batch))
		shuffled := make([]domain.Entry, len(batch))
		for to, from := range perm {
			shuffled[to] = batch[from]
		}
		got := domain.Judge(baba, s.history(), shuffled, now)
		for to, from := range perm {
			assert.Equal(t, want.Outcomes[from], got.Outcomes[to], "line %d", batch[from].Line)
		}
	}
	assert.Equal(t, []int{4, 6, 7}, refusedLines(batch, want), "the revision after the withdrawal, the second retraction, the id used twice")
}

func refusedLines(batch []domain.Entry, v domain.Verdict) []int {
	var lines []int
	for i, o := range v.Outcomes {
		if o.Err != nil {
			lines = append(lines, batch[i].Line)
		}
	}
	return lines
}

// A single command has no id until the ledger gives it one: the judge does
// not take uuid.Nil for an id, so a retraction naming the nil UUID is of no
// event, not of itself.
func TestJudgeTakesNoNilID(t *testing.T) {
	_, err := domain.Decide(nil, domain.Retract{Instrument: baba, EventID: uuid.Nil, Reason: "typo"}, at(t, "2026-01-01"))
	ve := requireInvalid(t, err, "event_id")
	assert.Equal(t, "is not an event of BABA", ve.Reason)
}
