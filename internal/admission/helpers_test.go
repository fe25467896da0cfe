package admission

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

// clock is a fake clock for rooms.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testConfig is a defaulted admission configuration with max sessions.
func testConfig(max int, edit ...func(*config.Admission)) config.Admission {
	c := config.Admission{Mode: "on", MaxSessions: max}
	for _, e := range edit {
		e(&c)
	}
	s := config.Site{Admission: c}
	cfg := config.Config{Sites: []config.Site{s}}
	cfg.Defaults()
	return cfg.Sites[0].Admission
}

// fixture is a stage over a room, with a fake clock and a next stage that
// answers 200 "served".
type fixture struct {
	t     *testing.T
	clk   *clock
	room  *Room
	stage *Stage
}

func newFixture(t *testing.T, cfg config.Admission) *fixture {
	t.Helper()
	clk := newClock()
	room, err := NewRoom("live", cfg, slog.New(slog.DiscardHandler), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	st := &Stage{Room: room, Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	})}
	for _, g := range cfg.Gate {
		c, _ := telemetry.ParseClass(g)
		st.Gate[c] = true
	}
	return &fixture{t: t, clk: clk, room: room, stage: st}
}

// viewer is a client of the fixture: an address, a User-Agent, and what
// the room gave it.
type viewer struct {
	addr    netip.Addr
	ua      string
	session string
	ticket  string
	seq     uint64 // admission number, once admitted
}

func newViewer(ip string) *viewer {
	return &viewer{addr: netip.MustParseAddr(ip), ua: "player/1.0"}
}

// reply is a decoded answer.
type reply struct {
	code     int
	header   http.Header
	body     string
	answer   answer
	admitted string
}

// get sends a gated request for path (a master playlist) as v, with what
// v holds, and keeps what the answer gives.
func (f *fixture) get(v *viewer, path string) reply {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("User-Agent", v.ua)
	if v.session != "" {
		req.Header.Set(SessionHeader, v.session)
	}
	if v.ticket != "" {
		req.Header.Set(TicketHeader, v.ticket)
	}
	return f.send(v, req, telemetry.ClassMaster)
}

func (f *fixture) send(v *viewer, req *http.Request, class telemetry.Class) reply {
	f.t.Helper()
	rr := httptest.NewRecorder()
	tw := telemetry.NewWriter(rr, f.clk.now())
	tw.Rec.Client, tw.Rec.Class = v.addr, class
	tw.Rec.Prefix, _ = v.addr.Prefix(24)
	f.stage.ServeHTTP(tw, req)
	tw.Release()
	rp := reply{code: rr.Code, header: rr.Header(), body: rr.Body.String(), admitted: rr.Header().Get(AdmittedHeader)}
	if rr.Header().Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(rr.Body.Bytes(), &rp.answer); err != nil {
			f.t.Fatalf("answer %q: %v", rp.body, err)
		}
	}
	if s := rr.Header().Get(SessionHeader); s != "" {
		v.session = s
	}
	if rp.admitted != "" {
		v.seq, _ = strconv.ParseUint(rp.admitted, 10, 64)
	}
	if t := rr.Header().Get(TicketHeader); t != "" {
		v.ticket = t
	}
	return rp
}

// tick advances the clock by d and lets the room do its housekeeping.
func (f *fixture) tick(d time.Duration) {
	f.clk.add(d)
	f.room.Tick(f.clk.now())
}

// NewRoomForTest is a room with its own random keys.
func NewRoomForTest(t *testing.T, site string) *Room {
	t.Helper()
	r, err := NewRoom(site, testConfig(1), slog.New(slog.DiscardHandler), newClock().now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func itoa(i int) string { return strconv.Itoa(i) }

func strInts(xs []int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Itoa(x)
	}
	return out
}

// NewRoomForTestF is NewRoomForTest for fuzz targets.
func NewRoomForTestF(f *testing.F) *Room {
	r, err := NewRoom("live", testConfig(1), slog.New(slog.DiscardHandler), newClock().now)
	if err != nil {
		f.Fatal(err)
	}
	return r
}
