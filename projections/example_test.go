package projections_test

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// Show answers "what was the consensus at this moment, as known then?" from
// an instrument's stream.
func ExampleShow() {
	day := func(d string) time.Time { t, _ := domain.ParseTime("at", d); return t }
	target := domain.Money(170 * domain.MoneyScale)
	recorded := time.Date(2025, 9, 12, 8, 0, 0, 0, time.UTC)
	history := []domain.Recorded{
		{ID: uuid.MustParse("0199400a-0000-7000-8000-000000000001"), Version: 0, RecordedAt: recorded,
			Event: domain.RatingAdded{Instrument: "BABA", Analyst: "j.smith@firm-a", Rating: domain.Buy,
				BrokerRating: "outperform", Target: &target, Currency: "USD", EffectiveAt: day("2025-09-05")}},
		{ID: uuid.MustParse("0199400a-0000-7000-8000-000000000002"), Version: 1, RecordedAt: recorded,
			Event: domain.CloseRecorded{Instrument: "BABA", Price: 155_440_000, Currency: "USD", EffectiveAt: day("2025-09-11")}},
	}
	c := projections.Show("BABA", history, projections.Query{
		AsOf: day("2025-09-11"), KnownAt: recorded, Window: projections.DefaultWindow})
	enc := json.NewEncoder(os.Stdout)
	_ = enc.Encode(c)
	fmt.Println(c.Label, c.UpsidePct)
	// Output:
	// {"instrument":"BABA","currency":"USD","as_of":"2025-09-11T23:59:59.999999999Z","known_at":"2025-09-12T08:00:00Z","window_days":90,"analysts":1,"buy":1,"hold":0,"sell":0,"mean_rating":2,"label":"Strong Buy","targets":1,"mean_target":170,"median_target":170,"high_target":170,"low_target":170,"stddev_target":0,"close":155.44,"close_at":"2025-09-11T23:59:59.999999999Z","upside_pct":9.37,"adjusted":true,"splits":[]}
	// Strong Buy 9.37
}

// ParseWindow reads the --window flag.
func ExampleParseWindow() {
	for _, text := range []string{"90d", "0d", "90"} {
		w, err := projections.ParseWindow(text)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(w)
	}
	// Output:
	// 2160h0m0s
	// 0s
	// window "90" must be a whole number of days such as 90d (0d for no expiry), at most 36500d
}
