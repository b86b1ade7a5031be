// Command consensus is the event-sourced analyst consensus ledger: it records
// ratings, price targets and closing prices as immutable events and rebuilds
// the consensus at any point in valid time and transaction time.
//
// Run `consensus help` for the commands; ../../docs explains the rules.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp(os.Stdout, os.Stderr, os.Getenv, time.Now).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
