package disclosures

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
)

// WriteJSON writes the report as one indented JSON object. Its bytes
// depend on the report alone, so the same question writes the same file.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the one table --csv writes: a section column says what
// each row is ("distribution": one per bucket; "holding": one per
// instrument counted; "recommendation": one per event of the list), and
// each section fills the columns that apply to it.
var csvHeader = []string{"section", "effective_at", "instrument", "analyst", "event_id", "type", "rating", "broker_rating",
	"rating_action", "target", "currency", "target_action", "close_at_publication", "close_at_publication_at",
	"close_as_of", "close_as_of_at", "bucket", "count", "pct"}

// WriteCSV writes the report as one CSV table (see csvHeader).
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(fields map[string]string) {
		rec := make([]string, len(csvHeader))
		for i, name := range csvHeader {
			rec[i] = fields[name]
		}
		_ = cw.Write(rec) // the error is kept by the writer; Error reports it
	}
	_ = cw.Write(csvHeader)
	d := r.Distribution
	for i, c := range []int{d.Buy, d.Hold, d.Sell} {
		row(map[string]string{"section": "distribution", "bucket": bucketNames[i], "count": strconv.Itoa(c),
			"pct": pctText([]*Pct{d.BuyPct, d.HoldPct, d.SellPct}[i])})
	}
	for _, h := range d.Holdings {
		row(map[string]string{"section": "holding", "effective_at": domain.FormatTime(h.RatedAt), "instrument": string(h.Instrument),
			"analyst": string(h.Analyst), "rating": h.Rating, "broker_rating": h.BrokerRating, "bucket": h.Bucket})
	}
	for _, rec := range r.Recommendations {
		row(map[string]string{"section": "recommendation", "effective_at": domain.FormatTime(rec.EffectiveAt),
			"instrument": string(rec.Instrument), "analyst": string(rec.Analyst), "event_id": rec.EventID.String(), "type": rec.Type,
			"rating": deref(rec.Rating), "broker_rating": deref(rec.BrokerRating), "rating_action": deref(rec.RatingAction),
			"target": moneyText(rec.Target), "currency": rec.Currency, "target_action": deref(rec.TargetAction),
			"close_at_publication": moneyText(rec.CloseAtPublication), "close_at_publication_at": timeText(rec.CloseAtPublicationAt),
			"close_as_of": moneyText(rec.CloseAsOf), "close_as_of_at": timeText(rec.CloseAsOfAt)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the report as the command line prints it: a heading,
// the distribution and the list, as aligned columns.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Research disclosures of %s as of %s, known at %s\n", r.Firm, domain.FormatTime(r.AsOf), domain.FormatTime(r.KnownAt))
	fmt.Fprintf(tw, "\nDistribution of ratings (%d instruments)\n", r.Distribution.Instruments)
	fmt.Fprintln(tw, "bucket\tcount\tpercent")
	for _, b := range r.Distribution.rows() {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", b.name, b.count, b.pct)
	}
	fmt.Fprintf(tw, "\nRecommendations in the %d months to %s (%d)\n", r.Months, r.AsOf.Format(time.DateOnly), len(r.Recommendations))
	fmt.Fprintln(tw, "effective\tinstrument\tanalyst\trating\taction\ttarget\ttarget action\tclose at publication\tclose as of")
	for _, rec := range r.Recommendations {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rec.dateText(), rec.Instrument, rec.Analyst, rec.ratingText(),
			orDash(deref(rec.RatingAction)), rec.targetText(), orDash(deref(rec.TargetAction)),
			orDash(moneyText(rec.CloseAtPublication)), orDash(moneyText(rec.CloseAsOf)))
	}
	return tw.Flush()
}

// bucketRow is one line of the distribution table.
type bucketRow struct {
	name  string
	count int
	pct   string
}

func (d Distribution) rows() []bucketRow {
	return []bucketRow{{"buy", d.Buy, orDash(pctText(d.BuyPct))}, {"hold", d.Hold, orDash(pctText(d.HoldPct))},
		{"sell", d.Sell, orDash(pctText(d.SellPct))}}
}

func (rec Recommendation) dateText() string { return rec.EffectiveAt.UTC().Format(time.DateOnly) }

// ratingText is the rating as normalised with the broker's word beside it
// when it differs ("buy (outperform)"); a dash for a revision.
func (rec Recommendation) ratingText() string {
	switch {
	case rec.Rating == nil:
		return "-"
	case rec.BrokerRating != nil && *rec.BrokerRating != *rec.Rating:
		return *rec.Rating + " (" + *rec.BrokerRating + ")"
	}
	return *rec.Rating
}

func (rec Recommendation) targetText() string {
	if rec.Target == nil {
		return "-"
	}
	return rec.Target.String() + " " + rec.Currency
}

// Figure draws the chart as a FINRA price chart.
func (c Chart) Figure() *chart.Figure {
	s := chart.PriceSeries{From: c.From, To: c.To, Currency: c.Currency}
	for _, cl := range c.Closes {
		s.Closes = append(s.Closes, chart.PriceClose{At: cl.At, Price: cl.Price})
	}
	for _, m := range c.Markers {
		s.Markers = append(s.Markers, chart.PriceMarker{At: m.At, Price: m.Close, Label: m.Label()})
	}
	title := fmt.Sprintf("%s price (%s), %s to %s, with the firm's rating and target changes", c.Instrument, c.Currency,
		c.From.UTC().Format(time.DateOnly), c.To.UTC().Format(time.DateOnly))
	return chart.NewPrice(s, chart.Options{Title: title})
}

// PNGScale is the pixel density of a PNG price chart, as `chart` draws
// PNGs: twice its size, sharp in print.
const PNGScale = 2

func pctText(p *Pct) string {
	if p == nil {
		return ""
	}
	return p.String()
}

func moneyText(m *Amount) string {
	if m == nil {
		return ""
	}
	return m.String()
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return domain.FormatTime(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
