package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits of the HTTP server. Imports and event streams lift the read and
// write timeouts for themselves; everything else must be quick.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// ShutdownGrace is how long requests in flight may finish after a
	// shutdown begins.
	ShutdownGrace = 10 * time.Second
)

// Serve answers on ln until ctx is done, running the server's background
// work meanwhile, then shuts down gracefully: it stops accepting, ends the
// event streams, lets requests in flight finish for up to ShutdownGrace and
// waits for the background work to stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          nil,
	}
	hs.RegisterOnShutdown(s.hub.closeAll)

	background, stopBackground := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(background) })
	defer func() {
		stopBackground()
		wg.Wait()
	}()

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut off: %w", ShutdownGrace, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// CheckAddress refuses to listen beyond this machine without a token file:
// such a server answers anyone, so it may only be reached from loopback.
func CheckAddress(addr string, withTokens bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	if port == "" {
		return fmt.Errorf("--addr %q has no port, such as 127.0.0.1:8080", addr)
	}
	if withTokens || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("--addr %s would listen beyond this machine without a token file; give --tokens FILE, or listen on 127.0.0.1 or [::1]", addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
