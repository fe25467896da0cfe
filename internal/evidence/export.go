package evidence

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Bounds on Export's summary: how many keys each table shows, and how many
// distinct keys it tracks (beyond, counts are approximate lower bounds).
const (
	topN      = 20
	trackKeys = 10000
)

// Summary describes an export; Export writes it as the last line, as
// {"summary": ...}.
type Summary struct {
	Since time.Time `json:"since,omitzero"` // asked range, start included
	Until time.Time `json:"until,omitzero"` // asked range, end excluded
	From  time.Time `json:"from,omitzero"`  // first entry exported
	To    time.Time `json:"to,omitzero"`    // last entry exported

	Entries         uint64            `json:"entries"`
	Requests        uint64            `json:"requests"`
	Actions         map[string]uint64 `json:"actions"` // requests by action; "none": refused without one
	TopSources      []Count           `json:"top_sources"`
	TopPrefixes     []Count           `json:"top_prefixes"`
	TopFingerprints []Count           `json:"top_fingerprints"`
	TopPaths        []Count           `json:"top_paths"`
	// Approximate is true when a table met more distinct keys than it
	// tracks: its counts are then lower bounds.
	Approximate bool `json:"approximate,omitempty"`

	HeadSeq  uint64 `json:"head_seq"` // the chain's head, over the whole log
	Head     string `json:"head"`
	Verified bool   `json:"verified"` // the whole chain holds
	Problem  string `json:"problem,omitempty"`
	Problems int    `json:"problems,omitempty"`
	Anchor   string `json:"anchor"`
	// Published says what the published head proved (VerifyOptions.Head).
	Published string `json:"published,omitempty"`
	// Unkeyed counts entries accepted with a plain SHA-256.
	Unkeyed uint64 `json:"unkeyed,omitempty"`
}

// Count is one row of a top table.
type Count struct {
	Key string `json:"key"`
	N   uint64 `json:"n"`
}

// Export writes to w the lines of the entries whose time is in [since,
// until) (a zero bound is open), unchanged so that each still verifies, and
// then a summary line. It verifies the whole chain on the way, as Verify
// does with opts: a broken chain is reported in the summary, not as an
// error.
func Export(dir string, opts VerifyOptions, since, until time.Time, w io.Writer) (Summary, error) {
	bw := bufio.NewWriter(w)
	sum := Summary{Since: since, Until: until, Actions: map[string]uint64{}}
	tabs := [4]topCounter{}
	for i := range tabs {
		tabs[i] = newTopCounter(trackKeys)
	}
	rep, err := walk(dir, opts, func(e *Entry, line []byte) error {
		if (!since.IsZero() && e.Time.Before(since)) || (!until.IsZero() && !e.Time.Before(until)) {
			return nil
		}
		sum.add(e, &tabs)
		bw.Write(line)
		return bw.WriteByte('\n')
	})
	if err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	sum.finish(&rep, &tabs)
	line, err := json.Marshal(struct {
		Summary *Summary `json:"summary"`
	}{&sum})
	if err != nil {
		return sum, fmt.Errorf("export summary: %w", err)
	}
	bw.Write(line)
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("export: write: %w", err)
	}
	return sum, nil
}

func (s *Summary) add(e *Entry, tabs *[4]topCounter) {
	s.Entries++
	if s.From.IsZero() || e.Time.Before(s.From) {
		s.From = e.Time
	}
	if e.Time.After(s.To) {
		s.To = e.Time
	}
	if e.Kind != KindRequest {
		return
	}
	s.Requests++
	action := e.Action
	if action == "" {
		action = "none"
	}
	s.Actions[action]++
	path, _, _ := strings.Cut(e.Target, "?")
	for i, k := range [4]string{e.Source, e.Prefix, e.Fingerprint, path} {
		tabs[i].add(k)
	}
}

func (s *Summary) finish(rep *Report, tabs *[4]topCounter) {
	s.TopSources, s.TopPrefixes = tabs[0].top(topN), tabs[1].top(topN)
	s.TopFingerprints, s.TopPaths = tabs[2].top(topN), tabs[3].top(topN)
	for _, t := range tabs {
		s.Approximate = s.Approximate || t.approx
	}
	s.HeadSeq, s.Head, s.Verified, s.Problems = rep.HeadSeq, rep.Head, rep.OK(), rep.Problems
	if rep.First != nil {
		s.Problem = rep.First.Error()
	}
	s.Anchor = rep.AnchorText()
	s.Published, s.Unkeyed = rep.Published, rep.Unkeyed
}

// topCounter counts keys in bounded memory (Misra-Gries): past max distinct
// keys, a new key decrements every count instead of taking a slot, so the
// heavy hitters stay, with counts that are lower bounds.
type topCounter struct {
	m      map[string]uint64
	max    int
	approx bool
}

func newTopCounter(max int) topCounter { return topCounter{m: map[string]uint64{}, max: max} }

func (c *topCounter) add(k string) {
	if k == "" {
		return
	}
	if _, ok := c.m[k]; ok || len(c.m) < c.max {
		c.m[k]++
		return
	}
	c.approx = true
	for key, n := range c.m {
		if n <= 1 {
			delete(c.m, key)
		} else {
			c.m[key] = n - 1
		}
	}
}

// top returns the n largest counts, largest first, ties by key.
func (c *topCounter) top(n int) []Count {
	out := make([]Count, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.N != b.N {
			return cmpInt(int64(b.N), int64(a.N))
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out[:min(n, len(out))]
}
