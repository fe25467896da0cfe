package config

import (
	"fmt"
	"strings"
	"time"
)

// Streams is how a site's media requests are judged by its live playlists
// (README, "Streams"): a segment no playlist lists, in a directory where
// the edge knows every segment, is answered 404 by the edge and never
// reaches the origin.
type Streams struct {
	// Unlisted is what happens to such a segment: "refuse" (404 from the
	// edge) or "pass" (judged, counted, sent on). Default refuse.
	Unlisted string `yaml:"unlisted"`
	// Pass lists path prefixes never judged: on-demand files beside a live
	// tree that no playlist lists. Each starts with "/". Default none.
	Pass []string `yaml:"pass"`
	// KeepRemoved is how long a segment stays listed after its playlist
	// dropped it: players lag behind the live edge. Default 1m; from 10s
	// to 1h.
	KeepRemoved time.Duration `yaml:"keep_removed"`
}

// Refuse reports whether unlisted segments are refused.
func (s *Streams) Refuse() bool { return s.Unlisted != "pass" }

func (s *Streams) defaults() {
	setDefault(&s.Unlisted, "refuse")
	setDefault(&s.KeepRemoved, time.Minute)
}

func (s *Streams) validate(v *validator, key string) {
	if s.Unlisted != "refuse" && s.Unlisted != "pass" {
		v.bad(key+".unlisted", s.Unlisted, `"refuse" or "pass"`)
	}
	for i, p := range s.Pass {
		if !strings.HasPrefix(p, "/") {
			v.bad(fmt.Sprintf("%s.pass[%d]", key, i), p, `a path prefix starting with "/", such as /vod/`)
		}
	}
	if s.KeepRemoved < 10*time.Second || s.KeepRemoved > time.Hour {
		v.bad(key+".keep_removed", s.KeepRemoved, "a duration from 10s to 1h")
	}
}
