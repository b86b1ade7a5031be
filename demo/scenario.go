package demo

import "github.com/consensus-ledger/consensus/domain"

// Steps returns the scenario in the order it is loaded. Dates are effective
// dates (a bare date means the end of that day, UTC).
func Steps() []Step {
	var steps []Step
	rate := func(sym, cur, analyst, firm, rating, target, at string) {
		steps = append(steps, Step{Row: domain.Row{Type: domain.RowRating, Instrument: sym, Analyst: analyst, Firm: firm, Rating: rating, Target: target, Currency: cur, At: at}})
	}
	revise := func(sym, cur, analyst, target, at string) {
		steps = append(steps, Step{Row: domain.Row{Type: domain.RowTarget, Instrument: sym, Analyst: analyst, Target: target, Currency: cur, At: at}})
	}
	closes := func(sym, cur string, dayPrice ...string) {
		for i := 0; i < len(dayPrice); i += 2 {
			steps = append(steps, Step{Row: domain.Row{Type: domain.RowClose, Instrument: sym, Price: dayPrice[i+1], Currency: cur, At: dayPrice[i]}})
		}
	}

	// BABA, the NASDAQ-listed ADR, in USD. By Thursday 11 September 18
	// analysts count: 17 buy and 1 hold, targets summing to 2982.42, a mean of
	// exactly 165.69.
	const us, usd = "BABA", "USD"
	rate(us, usd, "v.ivanova@ural-capital", "Ural Capital", "underperform", "95", "2025-03-10") // never updated: stale by June
	rate(us, usd, "y.zhang@summit-asia", "Summit Asia Research", "overweight", "130", "2025-03-20")
	rate(us, usd, "l.wang@pacific-crest", "Pacific Crest Research", "buy", "150", "2025-04-02")
	rate(us, usd, "n.ahmed@crescent-capital", "Crescent Capital", "market_perform", "120", "2025-04-15")
	rate(us, usd, "b.oconnor@liffey-partners", "Liffey Partners", "hold", "115", "2025-05-02")
	rate(us, usd, "r.patel@northgate", "Northgate Partners", "overweight", "140", "2025-05-15")
	rate(us, usd, "d.kim@hanriver", "Hanriver Investment", "neutral", "130", "2025-05-15")
	rate(us, usd, "o.berg@fjord-securities", "Fjord Securities", "hold", "120", "2025-05-20")
	rate(us, usd, "j.ortiz@meridian", "Meridian Capital", "outperform", "150", "2025-06-20")
	rate(us, usd, "h.fischer@nordlicht", "Nordlicht Bank", "buy", "160", "2025-06-25")
	rate(us, usd, "c.li@jade-harbour", "Jade Harbour Securities", "outperform", "165", "2025-06-30")
	rate(us, usd, "e.moreau@rive-gauche", "Rive Gauche Finance", "buy", "170", "2025-07-01")
	rate(us, usd, "m.keller@alpenbank", "Alpenbank Equities", "strong_buy", "160", "2025-07-10")
	rate(us, usd, "p.rossi@lagoon-capital", "Lagoon Capital", "buy", "140", "2025-07-15")
	rate(us, usd, "g.novak@danube-equities", "Danube Equities", "buy", "148", "2025-07-22")
	revise(us, usd, "r.patel@northgate", "155", "2025-07-25")
	rate(us, usd, "a.schmidt@rheinland", "Rheinland Research", "buy", "150", "2025-08-01")
	rate(us, usd, "b.oconnor@liffey-partners", "Liffey Partners", "buy", "145", "2025-08-01") // upgrade
	rate(us, usd, "t.nguyen@mekong-equity", "Mekong Equity", "accumulate", "163", "2025-08-04")
	steps = append(steps, Step{Row: domain.Row{Type: domain.RowWithdraw, Instrument: us, Analyst: "o.berg@fjord-securities", At: "2025-08-15"}})
	rate(us, usd, "k.osei@savanna-securities", "Savanna Securities", "buy", "160", "2025-08-20")
	// After the quarterly results of 29 August: upgrades and higher targets.
	revise(us, usd, "l.wang@pacific-crest", "200", "2025-08-29")
	rate(us, usd, "s.tanaka@kanto", "Kanto Securities", "buy", "172", "2025-08-29")
	rate(us, usd, "d.kim@hanriver", "Hanriver Investment", "buy", "168", "2025-08-29") // upgrade from neutral
	revise(us, usd, "y.zhang@summit-asia", "158", "2025-08-29")
	rate(us, usd, "n.ahmed@crescent-capital", "Crescent Capital", "neutral", "140", "2025-08-29")
	revise(us, usd, "j.ortiz@meridian", "175", "2025-09-01")
	revise(us, usd, "m.keller@alpenbank", "195", "2025-09-02")
	// A target keyed in as 1650 instead of 165, retracted and recorded again
	// (live, LoadLive: two days later, so the 3rd and 4th showed the typo).
	steps = append(steps, Step{Key: "baba-rossi-typo", Row: domain.Row{Type: domain.RowTarget, Instrument: us, Analyst: "p.rossi@lagoon-capital", Target: "1650", Currency: usd, At: "2025-09-03"}})
	steps = append(steps, Step{Key: "baba-rossi-typo-retraction", Retracts: "baba-rossi-typo", Recorded: TypoCorrected,
		Row: domain.Row{Type: domain.RowRetract, Instrument: us, Reason: "typo: target 1650 keyed instead of 165"}})
	revise(us, usd, "p.rossi@lagoon-capital", "165", "2025-09-03")
	steps[len(steps)-1].Recorded = TypoCorrected
	revise(us, usd, "b.oconnor@liffey-partners", "155", "2025-09-04")
	revise(us, usd, "r.patel@northgate", "170", "2025-09-05")
	rate(us, usd, "f.silva@atlantico", "Atlantico Research", "buy", "152.42", "2025-09-08")
	revise(us, usd, "a.schmidt@rheinland", "166", "2025-09-10")
	closes(us, usd,
		"2025-03-31", "132.20", "2025-04-30", "119.70", "2025-05-30", "113.40",
		"2025-06-06", "117.50", "2025-06-13", "113.20", "2025-06-20", "112.60", "2025-06-27", "113.40",
		"2025-07-03", "108.90", "2025-07-11", "107.30", "2025-07-18", "119.80", "2025-07-25", "120.40",
		"2025-08-01", "115.10", "2025-08-08", "118.20", "2025-08-15", "123.00", "2025-08-22", "121.80",
		"2025-08-29", "135.00", "2025-09-05", "141.50", "2025-09-08", "142.10", "2025-09-09", "140.30",
		// The article's closes: Wednesday (derived), Thursday (derived), Friday.
		"2025-09-10", "143.93", Thursday, "155.44", Friday, "152.98")

	// 9988.HK, the Hong Kong listing, in HKD: its own analysts and closes,
	// never mixed with the USD figures.
	const hk, hkd = "9988.HK", "HKD"
	rate(hk, hkd, "c.li@jade-harbour", "Jade Harbour Securities", "outperform", "160", "2025-06-30")
	rate(hk, hkd, "w.chan@kowloon-capital", "Kowloon Capital", "neutral", "150", "2025-07-15")
	rate(hk, hkd, "l.wang@pacific-crest", "Pacific Crest Research", "buy", "195", "2025-08-29")
	rate(hk, hkd, "h.zhou@victoria-harbour", "Victoria Harbour Securities", "buy", "180", "2025-08-30")
	rate(hk, hkd, "m.keller@alpenbank", "Alpenbank Equities", "strong_buy", "190", "2025-09-02")
	revise(hk, hkd, "c.li@jade-harbour", "175", "2025-09-05")
	closes(hk, hkd,
		"2025-08-29", "127.20", "2025-09-05", "134.50", "2025-09-10", "135.90",
		Thursday, "143.31", Friday, "150.70")
	return steps
}
