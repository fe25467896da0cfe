package synth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string // substring of the error; "" for valid
	}{
		{"zero", Options{}, ""},
		{"full", Options{SegmentDuration: 10 * time.Second, Window: 100, SegmentBytes: 1 << 20, Latency: time.Second}, ""},
		{"fractional D", Options{SegmentDuration: 1500 * time.Millisecond}, "SegmentDuration 1.5s"},
		{"long D", Options{SegmentDuration: 11 * time.Second}, "from 1s to 10s"},
		{"negative D", Options{SegmentDuration: -time.Second}, "SegmentDuration -1s"},
		{"small window", Options{Window: 2}, "Window 2: must be from 3 to 100"},
		{"negative pad", Options{SegmentBytes: -1}, "SegmentBytes -1"},
		{"huge pad", Options{SegmentBytes: MaxSegmentBytes + 1}, "SegmentBytes"},
		{"negative latency", Options{Latency: -1}, "Latency -1ns"},
		{"weak origin", Options{Renditions: 2, MaxConcurrent: 8, MaxQueue: 20, Latency: 20 * time.Millisecond}, ""},
		{"too many renditions", Options{Renditions: MaxRenditions + 1}, "Renditions 4: must be from 1 to 3"},
		{"negative renditions", Options{Renditions: -1}, "Renditions -1"},
		{"negative concurrency", Options{MaxConcurrent: -1}, "MaxConcurrent -1"},
		{"huge concurrency", Options{MaxConcurrent: MaxConcurrentLimit + 1}, "MaxConcurrent"},
		{"negative queue", Options{MaxConcurrent: 1, MaxQueue: -1}, "MaxQueue -1"},
		{"queue without slots", Options{MaxQueue: 5}, "MaxQueue 5: needs MaxConcurrent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidOption mentioning %q", err, tc.want)
			}
			if _, err := New(tc.opts); err == nil {
				t.Error("New accepted invalid options")
			}
		})
	}
}

func TestServeShutsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- Serve(ctx, ln, s, logger) }()
	resp, _ := get(t, "http://"+ln.Addr().String()+"/healthz")
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %s", resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestRunErrors(t *testing.T) {
	if err := Run(t.Context(), "127.0.0.1:0", Options{Window: 1}, nil); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("bad options: %v", err)
	}
	if err := Run(t.Context(), "256.0.0.1:http", Options{}, nil); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("bad address: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := Run(ctx, "127.0.0.1:0", Options{}, logger); err != nil {
		t.Errorf("Run until deadline: %v", err)
	}
}
