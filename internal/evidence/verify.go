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

// ErrNoKey is returned by Verify and Export when given no key and not told
// to accept unkeyed entries: they would prove nothing.
var ErrNoKey = errors.New("verifying the evidence chain needs its key")

// Why an unkeyed entry does not hold.
var (
	errUnkeyed = errors.New("unkeyed entry: its plain SHA-256 proves nothing against a rewrite " +
		"(entries written before the chain was keyed are accepted only when asked, with --unkeyed)")
	errDowngrade = errors.New("unkeyed entry after keyed ones: the chain never goes back to a plain SHA-256, so this line was rewritten")
)

// VerifyOptions say what Verify trusts.
type VerifyOptions struct {
	// Keys check the entries' hashes, HMACs under the key each names.
	// Required unless Unkeyed is set.
	Keys *Keys
	// Unkeyed accepts entries written before the chain was keyed (their
	// hash a plain SHA-256 that anyone can recompute) as long as they come
	// before the first keyed entry; Report.Unkeyed counts them.
	Unkeyed bool
	// Head, when set, is the chain's head as published outside the log:
	// the log must reach it and agree with it. Without it a truncated tail
	// cannot be told from a log that ends there.
	Head *Head
	// HeadSource names where Head was read, for reports; "head" if empty.
	HeadSource string
}

// Break is a place where the chain does not hold.
type Break struct {
	File   string // segment file name
	Line   int    // line number in File, from 1
	Seq    uint64 // the seq the line claims, or the one expected if unreadable
	Reason string
}

// Error describes the break for an operator: where and why.
func (b *Break) Error() string {
	if b.Line == 0 { // the head
		return fmt.Sprintf("%s (seq %d): %s", b.File, b.Seq, b.Reason)
	}
	return fmt.Sprintf("%s line %d (seq %d): %s", b.File, b.Line, b.Seq, b.Reason)
}

// Report is what Verify found.
type Report struct {
	Files    int
	Entries  uint64 // lines read as entries, valid or not
	Requests uint64
	Gaps     uint64 // gap entries: admitted holes
	Prunes   uint64 // pruned entries
	Rekeys   uint64 // key entries: the key changed there
	Unkeyed  uint64 // entries accepted with a plain SHA-256 (VerifyOptions.Unkeyed)
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
	// Published says what the published head (VerifyOptions.Head) proved;
	// empty without one, or when it did not hold (see First).
	Published string

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
// under opts.Keys and its link to the one before, then that the log
// reaches opts.Head. The error is for I/O, ErrNoKey and ErrEmpty; a broken
// chain is reported in the Report.
func Verify(dir string, opts VerifyOptions) (Report, error) {
	return walk(dir, opts, nil)
}

// walker checks the chain entry by entry.
type walker struct {
	opts       VerifyOptions
	rep        Report
	keyed      bool // a keyed entry was seen: no unkeyed one may follow
	lastFile   string
	lastLine   int
	atHead     *Break // where the entry opts.Head names was found
	atHeadHash string // its hash
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
func walk(dir string, opts VerifyOptions, fn func(e *Entry, line []byte) error) (Report, error) {
	if opts.Keys == nil && !opts.Unkeyed {
		return Report{}, ErrNoKey
	}
	segs, err := listSegments(dir)
	if err != nil {
		return Report{}, err
	}
	if len(segs) == 0 {
		if h := opts.Head; h != nil && h.Seq > 0 {
			return Report{}, fmt.Errorf("verify %s: %w, but the head published at %s names seq %d: the whole log was removed",
				dir, ErrEmpty, h.Time.Format(time.RFC3339), h.Seq)
		}
		return Report{}, fmt.Errorf("verify %s: %w", dir, ErrEmpty)
	}
	wk := walker{opts: opts}
	for i, s := range segs {
		if err := wk.file(filepath.Join(dir, s.name), s.name, i == len(segs)-1, fn); err != nil {
			return wk.rep, err
		}
	}
	wk.finish()
	wk.checkHead()
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
		wk.lastFile, wk.lastLine = name, lr.n
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
func (wk *walker) line(name string, n int, l line, newest bool) (e Entry, ok bool) {
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
	e, body, claimed, err := parseLine(l.b)
	if err != nil {
		at(wk.prevSeq+1, "%v", err)
		return Entry{}, false
	}
	wk.rep.Entries++
	ok = true
	if err := wk.hash(&e, body, claimed); err != nil {
		at(e.Seq, "%v", err)
		ok = false
	}
	if h := wk.opts.Head; h != nil && e.Seq == h.Seq {
		wk.atHead, wk.atHeadHash = &Break{File: name, Line: n, Seq: e.Seq}, claimed
	}
	wk.link(name, &e, claimed, at)
	wk.count(&e, claimed)
	return e, ok
}

// hash checks e's hash, and that an unkeyed entry is accepted.
func (wk *walker) hash(e *Entry, body []byte, claimed string) error {
	if err := checkHash(wk.opts.Keys, e, body, claimed); err != nil {
		return err
	}
	switch {
	case e.Key != "":
		wk.keyed = true
	case !wk.opts.Unkeyed:
		return errUnkeyed
	case wk.keyed:
		return errDowngrade
	default:
		wk.rep.Unkeyed++
	}
	return nil
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
	case KindKey:
		r.Rekeys++
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

// checkHead compares the log with the published head, if given.
func (wk *walker) checkHead() {
	h, r := wk.opts.Head, &wk.rep
	if h == nil {
		return
	}
	src := wk.opts.HeadSource
	if src == "" {
		src = "head"
	}
	when := h.Time.Format(time.RFC3339)
	if err := h.check(wk.opts.Keys); err != nil {
		wk.problem(&Break{File: src, Seq: h.Seq, Reason: err.Error()})
		return
	}
	switch at := wk.atHead; {
	case h.Seq == 0:
		r.Published = fmt.Sprintf("the head published at %s names an empty chain: it proves nothing", when)
	case r.HeadSeq < h.Seq:
		wk.problem(&Break{File: wk.lastFile, Line: wk.lastLine, Seq: r.HeadSeq,
			Reason: fmt.Sprintf("the log ends at seq %d, but the head published at %s (%s) names seq %d: the last %d entries were removed (tail truncated)",
				r.HeadSeq, when, src, h.Seq, h.Seq-r.HeadSeq)})
	case at == nil && h.Seq < r.AnchorSeq:
		r.Published = fmt.Sprintf("the head published at %s names seq %d, older than the oldest entry kept (seq %d): it proves nothing about the tail; take a newer one",
			when, h.Seq, r.AnchorSeq)
	case at == nil: // the entry's line was unreadable: already a break
	case wk.atHeadHash != h.Hash:
		at.Reason = fmt.Sprintf("hash %s is not the one the head published at %s (%s) names (%s): this entry was replaced", wk.atHeadHash, when, src, h.Hash)
		wk.problem(at)
	default:
		r.Published = fmt.Sprintf("the log reaches the head published at %s (seq %d) and agrees with it: nothing up to it was removed from the tail or replaced",
			when, h.Seq)
	}
}

func (wk *walker) problem(b *Break) {
	wk.early = wk.early || !wk.started
	wk.rep.Problems++
	if wk.rep.First == nil {
		wk.rep.First = b
	}
}
