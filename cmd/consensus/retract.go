package main

import (
	"context"

	"github.com/google/uuid"
	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// retractCmd is `consensus retract`: an EventRetracted on the stream of the
// event it names, found by id (CONTRACT section 2).
type retractCmd struct {
	writeFlags
	reason string
}

func (c *retractCmd) usage() (string, string) {
	return "retract EVENT_ID --reason TEXT",
		"Withdraws a wrong event from every answer known from now on (EventRetracted); nothing is deleted."
}

func (c *retractCmd) define(fs *pflag.FlagSet) {
	c.writeFlags.define(fs)
	fs.StringVar(&c.reason, "reason", "", "why the event is retracted (required)")
}

func (c *retractCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"reason": c.reason}); err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("expected one EVENT_ID argument")
	}
	id, err := uuid.Parse(args[0])
	if err != nil {
		return &domain.ValidationError{Field: "event_id", Value: args[0], Reason: "is not a UUID"}
	}
	if !c.exists(a) {
		return ledger.UnknownEvent(id)
	}
	return c.write(a, func(l *ledger.Ledger) (ledger.Receipt, error) {
		return l.Retract(ctx, id, c.reason, c.options(a))
	})
}
