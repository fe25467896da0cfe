package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/telemetry"
)

var (
	// errTooBig: an answer of unknown length outgrew MaxObjectBytes while
	// streaming; its waiters are aborted and the key becomes hit-for-pass.
	errTooBig = errors.New("object larger than max_object_bytes")
	// errLonger: the origin sent more bytes than its Content-Length.
	errLonger = errors.New("body longer than Content-Length")
	// errWaitTimeout: no response headers within WaitTimeout.
	errWaitTimeout = errors.New("no response headers within wait_timeout")
)

// statusError is an origin 5xx answer that the flight replaced with a stale
// copy instead of relaying it.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("origin answered %d", e.code) }

// readChunk is the first buffer size for bodies of unknown length.
const readChunk = 32 << 10

// flight is one shared origin fetch for a key. Its goroutine, owned by the
// Store, appends the body to a buffer; every waiter streams from that buffer
// as bytes arrive, each at its own pace, without holding the lock while it
// writes to its client. The fetch runs under the Store's context, not a
// requester's: it finishes, and stores the object, when the first requester
// goes away.
type flight struct {
	s        *Store
	key      string
	class    telemetry.Class // as routed, then refined by content type
	fixed    bool            // a configured route rule chose class: keep it
	policies *[telemetry.NumClasses]config.Policy
	fetcher  Fetcher
	timeout  time.Duration
	req      *http.Request                  // the origin request; immutable once launched
	stale    *entry                         // the copy being revalidated, or nil
	learn    func(path string, body []byte) // the Handler's Learner, or nil

	mu      sync.Mutex    // guards every field below
	changed chan struct{} // closed and replaced at every change
	status  int
	header  http.Header // the origin's headers, set once, then immutable
	length  int64       // Content-Length, -1 when unknown
	body    []byte      // bytes so far; later updates only extend it
	done    bool
	err     error  // failure, before or after headers
	entry   *entry // stored result, or the revalidated copy (then header is nil)
	final   telemetry.Class
	waiters int // requests attached to this flight
	// An answer that must reach one client only is handed over whole.
	solo      *http.Response
	soloTaken bool
	soloDone  chan struct{} // closed once the taker is done, or nobody will take it
}

// flightView is a waiter's snapshot of a flight, taken under its lock.
type flightView struct {
	status  int
	header  http.Header
	length  int64
	body    []byte
	done    bool
	err     error
	entry   *entry
	final   telemetry.Class
	solo    bool
	changed <-chan struct{}
}

// started reports whether the waiter has something to act on.
func (v *flightView) started() bool {
	return v.header != nil || v.err != nil || v.entry != nil || v.solo || v.done
}

func (f *flight) view() flightView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return flightView{
		status: f.status, header: f.header, length: f.length, body: f.body,
		done: f.done, err: f.err, entry: f.entry, final: f.final,
		solo: f.solo != nil, changed: f.changed,
	}
}

// notifyLocked wakes every waiter.
func (f *flight) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// join attaches a waiter unless the flight is done; leave detaches it.
func (f *flight) join() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return false
	}
	f.waiters++
	return true
}

func (f *flight) isDone() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

func (f *flight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiters--
	if f.waiters == 0 && f.solo != nil && !f.soloTaken {
		f.soloTaken = true
		close(f.soloDone)
	}
}

// run fetches the object and hands it to the waiters. It is the body of the
// flight's goroutine.
func (f *flight) run(ctx context.Context) {
	defer f.s.finish(f)
	// The fetcher gets its own copy: it may add headers, while waiters
	// read f.req (its query, for a pass).
	resp, err := f.fetcher.Fetch(ctx, f.req.Clone(ctx))
	if err != nil {
		f.fail(fmt.Errorf("fetch %s: %w", f.key, err))
		return
	}
	defer resp.Body.Close()
	stripHop(resp.Header)
	now := f.s.now()
	switch {
	case resp.StatusCode == http.StatusNotModified && f.stale != nil:
		f.revalidate(resp.Header, now)
	case resp.StatusCode >= 500 && f.stale != nil && f.stale.usableOnError(now):
		f.fail(fmt.Errorf("fetch %s: %w", f.key, statusError{resp.StatusCode}))
	case resp.StatusCode >= 500 && resp.Header.Get("Set-Cookie") == "":
		// An origin failing (an overloaded one answers 503 no-store) is
		// shared with this fetch's waiters and never makes the key
		// hit-for-pass: each waiter, then each request, going to the
		// origin on its own would feed the overload.
		f.originFailed(fmt.Errorf("fetch %s: %w", f.key, statusError{resp.StatusCode}))
		f.stream(resp)
	case unshareable(resp.Header, parseCacheControl(resp.Header)) != "" ||
		resp.ContentLength > int64(f.s.cfg.MaxObjectBytes):
		f.handOff(ctx, resp)
	default:
		if resp.StatusCode >= 500 {
			f.originFailed(fmt.Errorf("fetch %s: %w", f.key, statusError{resp.StatusCode}))
		}
		f.stream(resp)
	}
}

// fail ends the flight with err and counts an origin failure, before the
// waiters wake, so that what they answer is already in Stats.
func (f *flight) fail(err error) {
	if errors.Is(err, errTooBig) {
		f.s.markPass(f.key)
	} else if !errors.Is(err, origin.ErrLaneFull) { // the edge's choice, not the origin's fault
		f.originFailed(err)
	}
	f.mu.Lock()
	f.err, f.done = err, true
	f.notifyLocked()
	f.mu.Unlock()
}

// originFailed counts and logs (rate-limited) a failed origin fetch.
func (f *flight) originFailed(err error) {
	st := &f.s.stats
	st.OriginErrors.Add(1)
	if f.class == telemetry.ClassMedia {
		st.PlaylistRefreshFailures.Add(1)
	}
	f.s.logs.warn(f.s.log, f.s.now(), "origin fetch failed", "key", f.key,
		"class", f.class.String(), "err", err)
}

// handOff gives a non-shareable answer to one waiter, and waits until that
// waiter has relayed it (the body belongs to this goroutine's context).
// Everyone else fetches on their own, as does every request for the key
// while it is marked hit-for-pass.
func (f *flight) handOff(ctx context.Context, resp *http.Response) {
	f.s.markPass(f.key)
	f.s.stats.NotStored.Add(1)
	f.mu.Lock()
	if f.waiters == 0 {
		f.mu.Unlock()
		return
	}
	f.solo, f.soloDone = resp, make(chan struct{})
	done := f.soloDone
	f.notifyLocked()
	f.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// takeSolo claims the non-shareable answer; release must be called once the
// taker is done with it.
func (f *flight) takeSolo() (resp *http.Response, release func(), ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.solo == nil || f.soloTaken {
		return nil, nil, false
	}
	f.soloTaken = true
	return f.solo, func() { close(f.soloDone) }, true
}

// revalidate refreshes the stale copy from a 304: new times and merged
// headers, the stored body.
func (f *flight) revalidate(h304 http.Header, now time.Time) {
	e, _ := f.stale.revalidated(f.key, h304, now, int64(f.s.cfg.MaxObjectBytes), f.policies)
	f.s.stats.Revalidations.Add(1)
	if e != nil {
		f.teach(e.status, e.class, e.body) // before a hit can serve it
		f.s.set(f.key, e)
	} else {
		f.s.stats.NotStored.Add(1)
		e = f.stale
		f.teach(e.status, e.class, e.body)
	}
	f.mu.Lock()
	f.entry, f.final, f.done = e, e.class, true
	f.notifyLocked()
	f.mu.Unlock()
}

// stream publishes the headers, then the body as it arrives, then stores the
// object if it may be stored.
func (f *flight) stream(resp *http.Response) {
	// Only this goroutine reads f.class from here on; waiters read final.
	f.class = refineByType(f.class, f.fixed, resp.Header.Get("Content-Type"))
	f.mu.Lock()
	f.status, f.header, f.length = resp.StatusCode, resp.Header, resp.ContentLength
	f.notifyLocked()
	f.mu.Unlock()
	body, err := f.readBody(resp.Body, resp.ContentLength)
	if err != nil {
		f.fail(fmt.Errorf("read %s: %w", f.key, err))
		return
	}
	e, _ := buildEntry(entryInput{
		key: f.key, status: resp.StatusCode, header: resp.Header.Clone(), body: body,
		class: f.class, now: f.s.now(),
		maxObject: int64(f.s.cfg.MaxObjectBytes),
	}, f.policies)
	// The learner reads a playlist before anyone can be served it, from
	// this flight or from the store.
	final := refineClass(f.class, body)
	f.teach(resp.StatusCode, final, body)
	if e != nil {
		f.s.set(f.key, e)
	} else {
		f.s.stats.NotStored.Add(1)
	}
	f.mu.Lock()
	f.entry, f.final, f.done, f.body = e, final, true, body
	f.notifyLocked()
	f.mu.Unlock()
}

// holdBody reports whether the body is handed to waiters only once whole:
// a playlist the learner must read before any player acts on it.
func (f *flight) holdBody() bool {
	return f.learn != nil && (f.class == telemetry.ClassMaster || f.class == telemetry.ClassMedia)
}

// teach hands a playlist's body to the learner, before waiters are told
// the flight is done: a player that got the playlist finds its segments
// already listed.
func (f *flight) teach(status int, class telemetry.Class, body []byte) {
	if f.learn != nil && status == http.StatusOK && (class == telemetry.ClassMaster || class == telemetry.ClassMedia) {
		f.learn(f.req.URL.Path, body)
	}
}

// readBody reads r into a buffer bounded by MaxObjectBytes, publishing each
// chunk to the waiters. Bytes already published are never written again: a
// full buffer is replaced by a larger copy, and waiters keep reading the old
// one they hold.
func (f *flight) readBody(r io.Reader, length int64) ([]byte, error) {
	limit := int64(f.s.cfg.MaxObjectBytes)
	size := int64(readChunk)
	if length >= 0 {
		size = length
	}
	buf := make([]byte, 0, min(size, limit+1))
	for {
		if len(buf) == cap(buf) {
			if length >= 0 && int64(len(buf)) == length {
				return buf, expectEOF(r)
			}
			buf = grow(buf, limit+1)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			buf = buf[:len(buf)+n]
			if int64(len(buf)) > limit {
				return nil, errTooBig
			}
			if !f.holdBody() {
				f.mu.Lock()
				f.body = buf
				f.notifyLocked()
				f.mu.Unlock()
			}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// grow returns a copy of buf with twice its capacity, at most limit.
func grow(buf []byte, limit int64) []byte {
	c := min(max(2*int64(cap(buf)), readChunk), limit)
	nb := make([]byte, len(buf), c)
	copy(nb, buf)
	return nb
}

// expectEOF checks that a body of known length has ended.
func expectEOF(r io.Reader) error {
	var probe [1]byte
	for {
		n, err := r.Read(probe[:])
		switch {
		case n > 0:
			return errLonger
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}
