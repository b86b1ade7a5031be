package serve

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseQuery: parseQuery reads exactly what url.ParseQuery reads when
// that reads the whole string, and refuses, with a 400 naming a parameter
// in one line, whatever url.ParseQuery would read only in part.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{"", "as_of=2025-09-11&explain", "a=1&&b=%41&", "known_at=T%", "a=1;b=2", "%zz=1", "=1", "a+b=c+d&a=%2B"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseQuery(raw)
		want, wantErr := url.ParseQuery(raw)
		if err != nil {
			var api *apiError
			if !errors.As(err, &api) || api.status != 400 || strings.Contains(api.msg, "\n") {
				t.Fatalf("parseQuery(%q): %v, want a one-line 400", raw, err)
			}
			if wantErr == nil && !want.Has("") {
				t.Fatalf("parseQuery(%q) refused what url.ParseQuery reads whole: %v", raw, err)
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("parseQuery(%q) read %v; url.ParseQuery reads it only in part: %v", raw, got, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseQuery(%q) = %v, url.ParseQuery = %v", raw, got, want)
		}
	})
}
