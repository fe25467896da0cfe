package challenge

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestSolution(t *testing.T) {
	var keys, other Keys
	keys.Store([]byte("challenge-key-0123456789"))
	other.Store([]byte("other-key-0123456789abcd"))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const bits = 10
	ch := issue(&keys, home, uaChrome, bits, now)
	good := Solve(ch, bits)
	bad := "0"
	for leadingZeros(ch, bad) >= bits {
		n, _ := strconv.Atoi(bad)
		bad = strconv.Itoa(n + 1)
	}
	forged := issue(&other, home, uaChrome, bits, now)

	tests := []struct {
		name, challenge, counter string
		client                   netip.Addr
		at                       time.Time
		want                     error
	}{
		{name: "solved", challenge: ch, counter: good, at: now},
		{name: "solved from the same /24, 5 min later", challenge: ch, counter: good, client: sameNet, at: now.Add(MaxAge)},
		{name: "not enough work", challenge: ch, counter: bad, at: now, want: ErrNotEnough},
		{name: "stale", challenge: ch, counter: good, at: now.Add(MaxAge + time.Second), want: ErrStale},
		{name: "from the future", challenge: ch, counter: good, at: now.Add(-time.Minute), want: ErrStale},
		{name: "another network", challenge: ch, counter: good, client: otherNet, at: now, want: ErrBinding},
		{name: "forged", challenge: forged, counter: Solve(forged, bits), at: now, want: ErrForged},
		{name: "counter not digits", challenge: ch, counter: "12a", at: now, want: ErrMalformed},
		{name: "counter too long", challenge: ch, counter: "12345678901234567", at: now, want: ErrMalformed},
		{name: "empty counter", challenge: ch, counter: "", at: now, want: ErrMalformed},
		{name: "a clearance is not a challenge", challenge: signClearance(&keys, home, uaChrome, now), counter: good, at: now, want: ErrMalformed},
		{name: "truncated", challenge: ch[:len(ch)-2], counter: good, at: now, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := home
			if tt.client.IsValid() {
				client = tt.client
			}
			_, err := check(&keys, tt.challenge, tt.counter, client, uaChrome, tt.at)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLeadingZeros(t *testing.T) {
	// Counted across word boundaries: 40 bits of difficulty is a valid
	// request of the Go solver's helper even if the page never asks it.
	ch := "x"
	for c := 0; c < 1<<16; c++ {
		s := strconv.Itoa(c)
		if z := leadingZeros(ch, s); z >= 8 {
			return // found one; the value itself is checked by TestSolution
		}
	}
	t.Error("no counter under 65536 with 8 leading zero bits: leadingZeros is wrong")
}

func TestReplayCache(t *testing.T) {
	c := newReplayCache(8)
	now := time.Now()
	n := func(b byte) (k [nonceLen]byte) { k[0] = b; return }
	if !c.redeem(n(1), now) || c.redeem(n(1), now) {
		t.Fatal("a nonce redeemed twice")
	}
	// Kept for at least MaxAge, across one rotation.
	now = now.Add(MaxAge)
	if c.redeem(n(1), now) {
		t.Error("a nonce forgotten after one rotation")
	}
	// Bounded: many nonces never keep more than max.
	for i := range 100 {
		c.redeem(n(byte(i+2)), now)
	}
	if got := c.len(); got > 8 {
		t.Errorf("replay cache holds %d nonces, want at most 8", got)
	}
}

func TestSetPressure(t *testing.T) {
	c := newChallenger(t, testConfig(), newClock()) // 8..12
	for _, tt := range []struct {
		p    float64
		want int
	}{{0, 8}, {0.5, 10}, {1, 12}, {2, 12}, {-1, 8}, {0.24, 9}} {
		if got := c.SetPressure(tt.p); got != tt.want || c.Difficulty() != tt.want || c.Stats().Difficulty.Load() != int64(tt.want) {
			t.Errorf("SetPressure(%v) = %d (Difficulty %d), want %d", tt.p, got, c.Difficulty(), tt.want)
		}
	}
	var nan float64
	nan = nan / nan
	if got := c.SetPressure(nan); got != 8 {
		t.Errorf("SetPressure(NaN) = %d, want the minimum 8", got)
	}
}

func BenchmarkIssue(b *testing.B) {
	var keys Keys
	keys.Store([]byte("challenge-key-0123456789"))
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		issue(&keys, home, uaChrome, 16, now)
	}
}

func BenchmarkCheck(b *testing.B) {
	var keys Keys
	keys.Store([]byte("challenge-key-0123456789"))
	now := time.Now()
	ch := issue(&keys, home, uaChrome, 8, now)
	counter := Solve(ch, 8)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := check(&keys, ch, counter, home, uaChrome, now); err != nil {
			b.Fatal(err)
		}
	}
}
