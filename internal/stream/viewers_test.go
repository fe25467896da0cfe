package stream

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// done feeds v a finished request as the cache would have answered it.
func done(v *Viewers, client netip.Addr, cls telemetry.Class, stage string, status int, now time.Time) {
	rec := telemetry.Record{Client: client, Class: cls, Stage: stage, Status: status, Known: telemetry.KnownListed, Repeats: 1}
	v.Observe(&rec, nil, now)
}

func isViewer(v *Viewers, client netip.Addr, now time.Time) bool {
	viewer, _ := v.Look(client, telemetry.ClassSegment, 1, 0, now)
	return viewer
}

func TestViewersByBehaviour(t *testing.T) {
	clk := newClock()
	v := NewViewers(0)
	player := netip.MustParseAddr("127.0.0.2")
	done(v, player, telemetry.ClassMedia, "cache", 200, clk.t)
	done(v, player, telemetry.ClassSegment, "cache", 200, clk.t)
	if isViewer(v, player, clk.t) {
		t.Fatal("one segment is not playback yet")
	}
	clk.add(2 * time.Second)
	done(v, player, telemetry.ClassSegment, "cache", 200, clk.t)
	if !isViewer(v, player, clk.t) {
		t.Fatal("a playlist then two listed segments is a viewer")
	}
	clk.add(viewerWindow + time.Second)
	if isViewer(v, player, clk.t) {
		t.Fatal("a viewer that stopped is one no longer")
	}

	// segments without a playlist, or answered by the edge's own pages
	other := netip.MustParseAddr("127.0.0.3")
	for i := 0; i < 5; i++ {
		done(v, other, telemetry.ClassSegment, "cache", 200, clk.t)
	}
	done(v, other, telemetry.ClassMedia, "challenge", 200, clk.t)
	done(v, other, telemetry.ClassSegment, "challenge", 200, clk.t)
	done(v, other, telemetry.ClassSegment, "challenge", 200, clk.t)
	if isViewer(v, other, clk.t) {
		t.Fatal("the edge's own pages must never make a viewer")
	}
}

func TestViewersOffbeat(t *testing.T) {
	clk := newClock()
	v := NewViewers(0)
	poller := netip.MustParseAddr("127.0.0.4")
	for i := 0; i < playlistOnly; i++ {
		done(v, poller, telemetry.ClassMedia, "cache", 200, clk.t)
		clk.add(100 * time.Millisecond)
	}
	if _, off := v.Look(poller, telemetry.ClassMedia, 1, 2*time.Second, clk.t); !off {
		t.Error("a client loading playlists without segments is not at a player's pace")
	}
	if _, off := v.Look(poller, telemetry.ClassSegment, maxRepeats+1, 0, clk.t); !off {
		t.Error("asking one segment again and again is offbeat")
	}

	// a lookalike that asks listed segments as fast as it can
	greedy := netip.MustParseAddr("127.0.0.5")
	done(v, greedy, telemetry.ClassMedia, "cache", 200, clk.t)
	v.Look(greedy, telemetry.ClassMedia, 1, 2*time.Second, clk.t)
	for i := 0; i < 200; i++ {
		done(v, greedy, telemetry.ClassSegment, "cache", 200, clk.t)
	}
	if viewer, off := v.Look(greedy, telemetry.ClassSegment, 1, 0, clk.t); viewer || !off {
		t.Errorf("200 segments in a second: viewer %v offbeat %v, want no viewer, offbeat", viewer, off)
	}
	if n := v.Count(clk.t); n != 0 {
		t.Errorf("Count = %d viewers, want 0", n)
	}
}

// TestViewersMasterPolling: a player loads the master once; a client that
// loads it every second is out of a player's pace after a few.
func TestViewersMasterPolling(t *testing.T) {
	clk := newClock()
	v := NewViewers(0)
	bot := netip.MustParseAddr("127.0.0.6")
	for i := 0; i < maxMasters; i++ {
		if _, off := v.Look(bot, telemetry.ClassMaster, 1, 0, clk.t); off {
			t.Fatalf("master %d offbeat already", i+1)
		}
		done(v, bot, telemetry.ClassMaster, "cache", 200, clk.t)
		clk.add(time.Second)
	}
	if _, off := v.Look(bot, telemetry.ClassMaster, 1, 0, clk.t); !off {
		t.Errorf("%d masters in %d s is no player's pace", maxMasters, maxMasters)
	}
	clk.add(2*paceWindow + time.Second)
	if _, off := v.Look(bot, telemetry.ClassMaster, 1, 0, clk.t); off {
		t.Error("a player that starts again later is at its pace")
	}
}
