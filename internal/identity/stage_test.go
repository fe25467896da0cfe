package identity

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestStage(t *testing.T) {
	var got telemetry.Record
	s := &Stage{Resolver: NewResolver(testTrusted), Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = *telemetry.RecordOf(w)
	})}
	r := browserReq()
	r.RemoteAddr = "10.1.2.3:4444"
	r.Header.Set("X-Forwarded-For", "2001:db8:1:2:3:4:5:6")
	tw := telemetry.NewWriter(discard{}, time.Now())
	defer tw.Release()
	s.ServeHTTP(tw, r)
	if got.Client != netip.MustParseAddr("2001:db8:1:2:3:4:5:6") || got.Prefix != netip.MustParsePrefix("2001:db8:1:2::/64") {
		t.Fatalf("client %s prefix %s", got.Client, got.Prefix)
	}
	if got.Fingerprint != Fingerprint(r) || got.Fingerprint == 0 || got.TLSFingerprint != 0 {
		t.Fatalf("fingerprints %x %x", got.Fingerprint, got.TLSFingerprint)
	}
}

func TestStageAllocs(t *testing.T) {
	s := &Stage{Resolver: NewResolver(testTrusted), Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	r := browserReq()
	r.RemoteAddr = "10.1.2.3:4444"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 10.9.9.9")
	tw := telemetry.NewWriter(discard{}, time.Now())
	defer tw.Release()
	if n := testing.AllocsPerRun(100, func() { s.ServeHTTP(tw, r) }); n != 0 {
		t.Fatalf("Stage allocates %v times per request", n)
	}
}

func BenchmarkStage(b *testing.B) {
	s := &Stage{Resolver: NewResolver(testTrusted), Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	r := browserReq()
	r.RemoteAddr = "10.1.2.3:4444"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 10.9.9.9")
	tw := telemetry.NewWriter(discard{}, time.Now())
	defer tw.Release()
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(tw, r)
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
