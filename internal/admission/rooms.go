package admission

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// Rooms holds every site's room across reloads: a reload that keeps a site
// keeps its sessions and its line.
type Rooms struct {
	logger *slog.Logger
	now    func() time.Time

	mu sync.Mutex       // guards m
	m  map[string]*Room // by site name
}

// NewRooms returns an empty set of rooms.
func NewRooms(logger *slog.Logger, now func() time.Time) *Rooms {
	return &Rooms{logger: logger, now: now, m: map[string]*Room{}}
}

// Prepare returns site's room, creating it for cfg if new; an existing
// room is not changed until Apply. It fails if cfg's keys cannot be read.
func (rs *Rooms) Prepare(site string, cfg config.Admission) (*Room, error) {
	if cfg.KeysFile != "" { // check now, so that Apply cannot fail
		var probe Room
		if err := probe.keys.Load(cfg.KeysFile); err != nil {
			return nil, err
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.m[site]; r != nil {
		return r, nil
	}
	r, err := NewRoom(site, cfg, rs.logger.With("site", site, "component", "admission"), rs.now)
	if err != nil {
		return nil, err
	}
	rs.m[site] = r
	return r, nil
}

// Get returns site's room, nil if it has none.
func (rs *Rooms) Get(site string) *Room {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.m[site]
}

// All returns the rooms, by site name.
func (rs *Rooms) All() []*Room {
	rs.mu.Lock()
	out := make([]*Room, 0, len(rs.m))
	for _, r := range rs.m {
		out = append(out, r)
	}
	rs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].site < out[j].site })
	return out
}

// Run ticks every room four times a second until ctx is done.
func (rs *Rooms) Run(ctx context.Context) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := rs.now()
		for _, r := range rs.All() {
			r.Tick(now)
		}
	}
}

// Site returns the room's site name.
func (r *Room) Site() string { return r.site }
