// Command burst plays a flash crowd: N viewers, each on its own connection,
// ask for the same URL at the same moment. It dials every connection first,
// releases all requests at once from a barrier, reads every body to the end
// and prints one summary line:
//
//	burst url=... n=2000 ok=2000 fail=0 p50_ms=... p99_ms=... max_ms=... wall_ms=... bytes=...
//
// followed by a line per failure cause when there are failures. Only
// loopback URLs are accepted: it is a benchmark tool, not a load cannon.
//
//	go run ./bench/burst -url http://127.0.0.1:8080/burst/a.ts -n 2000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "burst:", err)
		os.Exit(1)
	}
}

type options struct {
	target  *url.URL
	n       int
	timeout time.Duration
}

func parseFlags() (options, error) {
	raw := flag.String("url", "", "URL every viewer asks for (http://127.0.0.1:PORT/...)")
	n := flag.Int("n", 2000, "concurrent viewers, one connection each")
	timeout := flag.Duration("timeout", 30*time.Second, "bound on the whole burst, dialing included")
	flag.Parse()
	u, err := url.Parse(*raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return options{}, fmt.Errorf("-url %q: want http://127.0.0.1:PORT/path", *raw)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return options{}, fmt.Errorf("-url %q: only loopback addresses are allowed", *raw)
	}
	if *n < 1 || *n > 50000 {
		return options{}, fmt.Errorf("-n %d: want 1 to 50000", *n)
	}
	return options{target: u, n: *n, timeout: *timeout}, nil
}

// result is what one viewer saw.
type result struct {
	latency time.Duration // from its request write to the last body byte
	bytes   int64
	err     error
}

func run() error {
	opts, err := parseFlags()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	conns, err := dialAll(ctx, opts.target.Host, opts.n)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	results, wall := fire(conns, requestBytes(opts.target), deadline)
	report(os.Stdout, opts, results, wall)
	return nil
}

// dialAll opens n connections before any request is sent, so that the
// burst measures the proxy's request handling, not connection setup.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	var d net.Dialer
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return conns, fmt.Errorf("dial %s (after %d connections): %w", addr, len(conns), err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

func requestBytes(u *url.URL) []byte {
	return []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: rempart-bench-burst\r\nAccept: */*\r\n\r\n")
}

// fire releases every viewer at once and waits for all of them.
func fire(conns []net.Conn, req []byte, deadline time.Time) ([]result, time.Duration) {
	results := make([]result, len(conns))
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i, c := range conns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c.SetDeadline(deadline)
			ready.Done()
			<-start
			results[i] = fetch(c, req)
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return results, time.Since(t0)
}

// fetch sends one request on c and reads the whole answer; a short body or
// a status other than 200 is a failure.
func fetch(c net.Conn, req []byte) result {
	t0 := time.Now()
	if _, err := c.Write(req); err != nil {
		return result{err: fmt.Errorf("write: %w", err)}
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		return result{err: fmt.Errorf("read header: %w", err)}
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	r := result{latency: time.Since(t0), bytes: n}
	switch {
	case err != nil:
		r.err = fmt.Errorf("read body: %w", err)
	case resp.StatusCode != http.StatusOK:
		r.err = fmt.Errorf("status %d", resp.StatusCode)
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		r.err = errors.New("short body")
	}
	return r
}

func report(w io.Writer, opts options, results []result, wall time.Duration) {
	var lat []time.Duration
	var total int64
	causes := map[string]int{}
	for _, r := range results {
		total += r.bytes
		if r.err != nil {
			causes[errClass(r.err)]++
			continue
		}
		lat = append(lat, r.latency)
	}
	slices.Sort(lat)
	fmt.Fprintf(w, "burst url=%s n=%d ok=%d fail=%d p50_ms=%s p99_ms=%s max_ms=%s wall_ms=%.1f bytes=%d\n",
		opts.target, opts.n, len(lat), opts.n-len(lat),
		pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1), ms(wall), total)
	keys := make([]string, 0, len(causes))
	for k := range causes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  failures: %d x %s\n", causes[k], k)
	}
}

// errClass shortens an error to its cause, so failures group well.
func errClass(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && !strings.HasPrefix(s, "status") {
		return s[:strings.Index(s, ":")] + ": " + s[i+2:]
	}
	return s
}

// pct returns the q-quantile (nearest rank) of sorted in milliseconds.
func pct(sorted []time.Duration, q float64) string {
	if len(sorted) == 0 {
		return "nan"
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	i = min(max(i, 0), len(sorted)-1)
	return fmt.Sprintf("%.1f", ms(sorted[i]))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
