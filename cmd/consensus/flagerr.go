package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
)

// flagError rewords pflag's parse errors that echo what was typed, through
// domain.Quote: pflag quotes a bad value whole, twice (its own message and
// strconv's), so a pasted 60 KB value would make a 120 KB message.
func flagError(err error) string {
	var (
		invalid *pflag.InvalidValueError
		unknown *pflag.NotExistError
		syntax  *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		msg := fmt.Sprintf("--%s %s is not a valid %s", f.Name, domain.Quote(invalid.GetValue()), f.Value.Type())
		// A flag type of ours says why in words that echo nothing; pflag's
		// own types only restate the type, or repeat the value whole.
		if _, ours := f.Value.(explainedFlag); ours {
			if cause := errors.Unwrap(invalid); cause != nil {
				msg += ": " + cause.Error()
			}
		}
		return msg
	case errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() == "":
		return "unknown flag " + domain.Quote("--"+unknown.GetSpecifiedName())
	case errors.As(err, &syntax):
		return "bad flag syntax " + domain.Quote(syntax.GetSpecifiedFlag())
	}
	return err.Error()
}

// explainedFlag is a flag value of this program whose Set error says, in
// words that do not repeat the value, what a valid value looks like.
type explainedFlag interface {
	pflag.Value
	explainsRefusal()
}
