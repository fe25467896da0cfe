package browsertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/chromedp/chromedp"
)

// MaxMessages bounds the console messages kept per browser; later ones are
// counted, not kept, so a page that logs in a loop cannot exhaust memory.
const MaxMessages = 500

type recorderKey struct{}

// recorder keeps what a tab writes to its console: console API calls,
// uncaught exceptions and browser log entries such as CSP violations.
type recorder struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the reading goroutine returns

	mu      sync.Mutex // protects msgs and dropped
	msgs    []string
	dropped int
}

// record subscribes to the console of ctx's tab, whose browser runs
// already, and reads it on a goroutine until stop.
func record(ctx context.Context) *recorder {
	ctx, cancel := context.WithCancel(ctx)
	r := &recorder{cancel: cancel, done: make(chan struct{})}
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(r.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			r.add(format(m))
		}
	}()
	return r
}

func format(m chromedp.ConsoleMessage) string {
	s := m.String()
	if m.Source != "" {
		s += " [" + m.Source + "]"
	}
	if m.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	return s
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) >= MaxMessages {
		r.dropped++
		return
	}
	r.msgs = append(r.msgs, s)
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.msgs...)
	if r.dropped > 0 {
		out = append(out, fmt.Sprintf("(%d more messages dropped)", r.dropped))
	}
	return out
}

func (r *recorder) stop() {
	r.cancel()
	<-r.done
}

// Messages returns what the page in ctx's tab has written to its console so
// far, one line per message ("type: text [source] (url:line)"): console API
// calls, uncaught exceptions, and browser log entries such as Content
// Security Policy violations or failed loads.
func Messages(ctx context.Context) []string {
	r, ok := ctx.Value(recorderKey{}).(*recorder)
	if !ok {
		return nil
	}
	return r.messages()
}
