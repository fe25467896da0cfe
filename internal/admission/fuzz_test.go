package admission

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary sessions and tickets to the sealer: it must
// never panic, and never accept what it did not sign for this client.
func FuzzOpen(f *testing.F) {
	r := NewRoomForTestF(f)
	now := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	client := netip.MustParseAddr("192.0.2.1")
	good := r.sealer.seal(ticketV1, 7, now, client, "ua")
	f.Add(good)
	f.Add(good[:len(good)-1] + "A")
	goodSession := r.sealer.seal(sessionV1, 7, now, client, "ua")
	f.Add(goodSession)
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, v string) {
		for _, kind := range []byte{ticketV1, sessionV1} {
			sv, err := r.sealer.open(kind, v, client, "ua")
			signed := v == good && kind == ticketV1 || v == goodSession && kind == sessionV1
			if err == nil && (!signed || sv.id != 7) {
				t.Fatalf("accepted %q as kind %x (id %d)", v, kind, sv.id)
			}
		}
	})
}

// FuzzLine checks the waiting line against a plain slice: positions, the
// head and draws agree whatever the order of arrivals and departures.
func FuzzLine(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 2, 0, 3})
	f.Add(make([]byte, 3000))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var l line
		var model []*ticket
		rng := rand.New(rand.NewPCG(1, 2))
		for _, op := range ops {
			switch {
			case op%4 != 3 || len(model) == 0: // arrive
				tk := &ticket{slot: -1}
				l.push(tk)
				model = append(model, tk)
			default: // someone leaves
				i := int(op/4) % len(model)
				l.remove(model[i])
				model = append(model[:i], model[i+1:]...)
			}
			checkLine(t, &l, model, rng)
		}
	})
}

func checkLine(t *testing.T, l *line, model []*ticket, rng *rand.Rand) {
	t.Helper()
	if l.live != len(model) {
		t.Fatalf("live %d, want %d", l.live, len(model))
	}
	if len(model) == 0 {
		if l.first() != nil {
			t.Fatal("first of an empty line")
		}
		return
	}
	if l.first() != model[0] {
		t.Fatal("first is not the oldest")
	}
	i := rng.IntN(len(model))
	if p := l.position(model[i]); p != i+1 {
		t.Fatalf("position %d, want %d", p, i+1)
	}
	if l.nth(i+1) != model[i] {
		t.Fatalf("nth(%d) is not the %d-th", i+1, i+1)
	}
}
