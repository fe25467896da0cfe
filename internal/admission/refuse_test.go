package admission

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// TestForgedReplayedSharedRefused checks every way a ticket or a session
// is abused: each is refused with its reason, and none gets a place.
func TestForgedReplayedSharedRefused(t *testing.T) {
	f := newFixture(t, testConfig(1))
	owner := newViewer("192.0.2.10")
	f.get(owner, "/m.m3u8")
	waiter := newViewer("198.51.100.10")
	f.get(waiter, "/m.m3u8")
	if waiter.ticket == "" {
		t.Fatal("no ticket")
	}
	other := NewRoomForTest(t, "live") // same site name, other keys
	foreign := &viewer{addr: waiter.addr, ua: waiter.ua}
	foreign.ticket = other.sealer.seal(ticketV1, 1, f.clk.now(), waiter.addr, waiter.ua)
	foreignSession := other.sealer.seal(sessionV1, 1, f.clk.now(), owner.addr, owner.ua)

	flip := func(s string) string {
		b := []byte(s)
		if b[40] == 'A' {
			b[40] = 'B'
		} else {
			b[40] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		v      viewer
		code   int
		reason string
	}{
		{"forged ticket (bit flipped)", viewer{addr: waiter.addr, ua: waiter.ua, ticket: flip(waiter.ticket)}, 403, "forged_ticket"},
		{"garbage ticket", viewer{addr: waiter.addr, ua: waiter.ua, ticket: "hello"}, 403, "forged_ticket"},
		{"ticket signed with other keys", *foreign, 403, "forged_ticket"},
		{"ticket shared with another network", viewer{addr: mustAddr("203.0.113.7"), ua: waiter.ua, ticket: waiter.ticket}, 403, "ticket_elsewhere"},
		{"ticket shared with another browser", viewer{addr: waiter.addr, ua: "bot/2", ticket: waiter.ticket}, 403, "ticket_elsewhere"},
		{"forged session", viewer{addr: owner.addr, ua: owner.ua, session: flip(owner.session)}, 403, "forged_session"},
		{"session signed with other keys", viewer{addr: owner.addr, ua: owner.ua, session: foreignSession}, 403, "forged_session"},
		{"session shared with another network", viewer{addr: mustAddr("203.0.113.8"), ua: owner.ua, session: owner.session}, 403, "session_elsewhere"},
		{"a ticket used as a session", viewer{addr: waiter.addr, ua: waiter.ua, session: waiter.ticket}, 403, "forged_session"},
		{"a session used as a ticket", viewer{addr: owner.addr, ua: owner.ua, ticket: owner.session}, 403, "forged_ticket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			rp := f.get(&v, "/m.m3u8")
			if rp.code != tt.code || rp.answer.Status != "refused" || rp.answer.Reason != tt.reason {
				t.Errorf("got %d %+v, want %d refused %s", rp.code, rp.answer, tt.code, tt.reason)
			}
		})
	}
	// The waiter's turn comes: it is admitted once; the ticket replayed
	// after that is refused, from the same client or not.
	f.tick(31 * time.Second)
	if rp := f.get(waiter, "/m.m3u8"); rp.code != http.StatusOK {
		t.Fatalf("waiter at its turn: %d", rp.code)
	}
	replay := &viewer{addr: waiter.addr, ua: waiter.ua, ticket: waiter.ticket}
	used := waiter.ticket
	if rp := f.get(replay, "/m.m3u8"); rp.code != 503 || rp.answer.Number <= 1 || rp.answer.Ticket == used {
		t.Errorf("replayed ticket: %d %+v, want it worth nothing: 503 with a new ticket at the back", rp.code, rp.answer)
	}
	if n := f.room.stats.Refused[reasonTicketUsed].Load(); n != 1 {
		t.Errorf("used tickets counted %d, want 1", n)
	}
	// The owner's session ended while idle: replayed, it only queues.
	rp := f.get(owner, "/m.m3u8")
	if rp.code != http.StatusServiceUnavailable || rp.answer.Status != "queued" {
		t.Errorf("ended session replayed: %d %+v, want 503 queued", rp.code, rp.answer)
	}
	if n := f.room.stats.Refused[reasonForgedTicket].Load(); n != 4 {
		t.Errorf("forged tickets counted %d, want 4", n)
	}
}

func TestTicketRateLimitedPerClientAndNetwork(t *testing.T) {
	f := newFixture(t, testConfig(1, func(a *config.Admission) {
		a.Queue.TicketRate, a.Queue.TicketBurst = 1, 2
		a.Queue.PrefixRate, a.Queue.PrefixBurst = 1, 5
	}))
	f.get(newViewer("192.0.2.1"), "/m.m3u8")
	bot := newViewer("198.51.100.1")
	codes := []int{}
	for range 4 {
		fresh := &viewer{addr: bot.addr, ua: bot.ua}
		codes = append(codes, f.get(fresh, "/m.m3u8").code)
	}
	if codes[0] != 503 || codes[1] != 503 || codes[2] != 429 || codes[3] != 429 {
		t.Errorf("one address taking tickets: %v, want 503 503 429 429", codes)
	}
	// Neighbours in the same /24 share the network's budget (5): 3 more.
	var got []int
	for i := 2; i < 7; i++ {
		got = append(got, f.get(newViewer("198.51.100."+itoa(i)), "/m.m3u8").code)
	}
	if strings.Trim(strings.Join(strInts(got), ","), ",") != "503,503,503,429,429" {
		t.Errorf("a /24 taking tickets: %v, want 503 ×3 then 429", got)
	}
	if f.room.stats.Limited.Load() != 4 {
		t.Errorf("limited %d, want 4", f.room.stats.Limited.Load())
	}
}
