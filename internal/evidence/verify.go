package evidence

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ErrEmpty is returned by Verify and Export for a directory without
// segment files.
var ErrEmpty = errors.New("no evidence files")

// Break is a place where the chain does not hold.
type Break struct {
	File   string // segment file name
	Line   int    // line number in File, from 1
	Seq    uint64 // the seq the line claims, or the one expected if unreadable
	Reason string
}

// Error describes the break for an operator: where and why.
func (b *Break) Error() string {
	return fmt.Sprintf("%s line %d (seq %d): %s", b.File, b.Line, b.Seq, b.Reason)
}

// Report is what Verify found.
type Report struct {
	Files    int
	Entries  uint64 // lines read as entries, valid or not
	Requests uint64
	Gaps     uint64 // gap entries: admitted holes
	Prunes   uint64 // pruned entries
	From, To time.Time

	// The anchor is the first entry of the oldest file. Genesis is true
	// when it is the first entry ever written (seq 1, prev_hash ZeroHash);
	// otherwise its prev_hash is trusted, and Announced says whether a
	// pruned entry named it as the first kept.
	AnchorFile     string
	AnchorSeq      uint64
	AnchorPrevHash string
	Genesis        bool
	Announced      bool

	HeadSeq uint64 // the last entry
	Head    string // its hash

	Problems int    // breaks found
	First    *Break // the first, nil when the chain holds
	// TornTail describes an incomplete last line at the very end of the
	// log: a write in progress or cut by a crash (the next start admits
	// it). It does not break the chain.
	TornTail string
}

// OK reports whether the chain holds.
func (r *Report) OK() bool { return r.Problems == 0 }

// AnchorText says where the chain starts and what is trusted.
func (r *Report) AnchorText() string {
	switch {
	case r.AnchorFile == "":
		return "no entries"
	case r.Genesis:
		return fmt.Sprintf("the chain starts at its first entry (seq 1) in %s", r.AnchorFile)
	}
	how := "announced by a pruned entry"
	if !r.Announced {
		how = "NOT announced by any pruned entry"
	}
	return fmt.Sprintf("earlier entries were pruned: the chain starts at seq %d in %s, its prev_hash %s trusted as the anchor (%s)",
		r.AnchorSeq, r.AnchorFile, r.AnchorPrevHash, how)
}

// Verify walks every segment of dir in order and checks each entry's hash
// and its link to the one before. The error is for I/O and ErrEmpty; a
// broken chain is reported in the Report.
func Verify(dir string) (Report, error) {
	return walk(dir, nil)
}

// walker checks the chain entry by entry.
type walker struct {
	rep        Report
	started    bool
	prevSeq    uint64
	prevHash   string
	anchor     string // hash of the anchor entry
	anchorLine int
	early      bool     // a problem came before the anchor
	announced  []string // first_kept_hash of pruned entries
	pruned     []string // files pruned entries named
}

// walk verifies dir, calling fn with every valid entry and its line.
func walk(dir string, fn func(e *Entry, line []byte) error) (Report, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return Report{}, err
	}
	if len(segs) == 0 {
		return Report{}, fmt.Errorf("verify %s: %w", dir, ErrEmpty)
	}
	var wk walker
	for i, s := range segs {
		if err := wk.file(filepath.Join(dir, s.name), s.name, i == len(segs)-1, fn); err != nil {
			return wk.rep, err
		}
	}
	wk.finish()
	wk.rep.Files = len(segs)
	return wk.rep, nil
}

func (wk *walker) file(path, name string, newest bool, fn func(*Entry, []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	lr := newLineReader(f)
	for {
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("verify: read %s: %w", name, err)
		}
		e, ok := wk.line(name, lr.n, l, newest)
		if wk.anchorLine == 0 && wk.started {
			wk.anchorLine = lr.n
		}
		if ok && fn != nil {
			if err := fn(&e, l.b); err != nil {
				return err
			}
		}
	}
}

// line checks one line and says whether it holds an entry to export.
func (wk *walker) line(name string, n int, l line, newest bool) (Entry, bool) {
	at := func(seq uint64, format string, args ...any) {
		wk.problem(&Break{File: name, Line: n, Seq: seq, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case !l.complete && newest:
		wk.rep.TornTail = fmt.Sprintf("%s line %d: %d bytes without a newline (being written, or cut by a crash)", name, n, len(l.b))
		return Entry{}, false
	case !l.complete:
		at(wk.prevSeq+1, "line without a newline in the middle of the log")
		return Entry{}, false
	case l.long:
		at(wk.prevSeq+1, "line longer than %d bytes", maxLineLen)
		return Entry{}, false
	}
	e, claimed, hashOK, err := parseLine(l.b)
	if err != nil {
		at(wk.prevSeq+1, "%v", err)
		return Entry{}, false
	}
	wk.rep.Entries++
	if !hashOK {
		at(e.Seq, "hash mismatch: the line was altered after it was written")
	}
	wk.link(name, &e, claimed, at)
	wk.count(&e, claimed)
	return e, hashOK
}

// link checks that e follows the entry before it.
func (wk *walker) link(name string, e *Entry, hash string, at func(uint64, string, ...any)) {
	defer func() { wk.started, wk.prevSeq, wk.prevHash = true, e.Seq, hash }()
	if !wk.started {
		wk.rep.AnchorFile, wk.rep.AnchorSeq, wk.rep.AnchorPrevHash = name, e.Seq, e.PrevHash
		wk.rep.Genesis = e.Seq == 1 && e.PrevHash == ZeroHash
		wk.anchor = hash
		return
	}
	switch {
	case e.Seq == wk.prevSeq+1 && e.PrevHash == wk.prevHash:
	case e.Seq > wk.prevSeq+1:
		at(e.Seq, "seq %d follows seq %d: %d entries missing", e.Seq, wk.prevSeq, e.Seq-wk.prevSeq-1)
	case e.Seq <= wk.prevSeq:
		at(e.Seq, "seq %d follows seq %d: out of order or repeated", e.Seq, wk.prevSeq)
	default:
		at(e.Seq, "prev_hash %s is not the hash of seq %d (%s): an entry was altered or replaced", e.PrevHash, wk.prevSeq, wk.prevHash)
	}
}

func (wk *walker) count(e *Entry, hash string) {
	r := &wk.rep
	switch e.Kind {
	case KindRequest:
		r.Requests++
	case KindGap:
		r.Gaps++
	case KindPruned:
		r.Prunes++
		wk.announced = append(wk.announced, e.FirstKeptHash)
		wk.pruned = append(wk.pruned, e.Files...)
	}
	if r.From.IsZero() || e.Time.Before(r.From) {
		r.From = e.Time
	}
	if e.Time.After(r.To) {
		r.To = e.Time
	}
	r.HeadSeq, r.Head = e.Seq, hash
}

// finish checks that a chain not starting at seq 1 was cut by rempart: a
// pruned entry announced its anchor, or named its file (a prune that a
// crash interrupted).
func (wk *walker) finish() {
	r := &wk.rep
	if !wk.started || r.Genesis {
		return
	}
	r.Announced = slices.Contains(wk.announced, wk.anchor) || slices.Contains(wk.pruned, r.AnchorFile)
	if !r.Announced {
		b := &Break{File: r.AnchorFile, Line: wk.anchorLine, Seq: r.AnchorSeq,
			Reason: "the chain starts here but no pruned entry announced it: older files were removed by other means"}
		r.Problems++
		if !wk.early { // the anchor comes before any later break
			r.First = b
		}
	}
}

func (wk *walker) problem(b *Break) {
	wk.early = wk.early || !wk.started
	wk.rep.Problems++
	if wk.rep.First == nil {
		wk.rep.First = b
	}
}
