// Command rempart is the edge that keeps a streaming platform on air: it
// serves live HLS, on-demand files and the app's API to a flash crowd with
// one origin fetch per object. main only wires flags to packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "rempart: %v\nRun 'rempart help' for usage.\n", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "rempart: %v\n", err)
		os.Exit(1)
	}
}

// usageError marks errors in how rempart was called (flags, arguments), which
// exit with status 2 like other command-line tools.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
