package serve

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/consensus-ledger/consensus/domain"
)

// parseQuery reads a request's raw query string strictly, for every route.
//
// url.ParseQuery (behind r.URL.Query) drops a pair it cannot decode, a bad
// "%" escape or a ";", and keeps the rest: known_at=T% would then answer
// "known now", another question than the one asked, with a 200. Here a
// pair that does not decode is a 400 naming its parameter. Pairs are
// separated by "&" alone; a ";" is refused rather than guessed at, as Go
// itself stopped splitting on it (Go 1.17). Empty pairs ("a=1&&b=2", a
// trailing "&") carry nothing and are skipped, as browsers and url.Values
// do. Repeated names are kept here and refused by checkQuery.
func parseQuery(raw string) (url.Values, error) {
	values := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, domain.Shorten(rawName),
				"query parameter name %s is not URL-encoded: a %% must be followed by two hex digits (write a %% itself as %%25)", domain.Quote(rawName))
		}
		if name == "" {
			return nil, refuse(http.StatusBadRequest, "", "query parameter %s has no name", domain.Quote(pair))
		}
		if strings.Contains(pair, ";") {
			return nil, refuse(http.StatusBadRequest, domain.Shorten(name),
				"query parameter %s holds a \";\": separate parameters with \"&\", and write a \";\" in a value as %%3B", domain.Quote(pair))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, domain.Shorten(name),
				"query parameter %s %s is not URL-encoded: a %% must be followed by two hex digits (write a %% itself as %%25)", paramName(name), domain.Quote(rawValue))
		}
		values[name] = append(values[name], value)
	}
	return values, nil
}

// paramName writes a parameter's name in a message: bare when it is
// spelled as the API's names are (known_at), quoted otherwise, so a name
// holding spaces, quotes or control characters cannot blur the sentence.
func paramName(name string) string {
	if name == "" || len(name) > domain.MaxQuotedChars {
		return domain.Quote(name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return domain.Quote(name)
		}
	}
	return name
}
