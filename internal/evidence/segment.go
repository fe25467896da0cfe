package evidence

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	segPrefix = "evidence-"
	segSuffix = ".jsonl"
)

// segment is one file of the log.
type segment struct {
	name string // base name
	num  int64  // the number in its name: its order
	size int64
}

func segName(num int64) string { return fmt.Sprintf("%s%020d%s", segPrefix, num, segSuffix) }

// listSegments returns dir's segment files, oldest first. Other files are
// ignored, so that an operator's notes in the directory do no harm.
func listSegments(dir string) ([]segment, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read evidence dir: %w", err)
	}
	var segs []segment
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		num, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil || num < 0 {
			continue
		}
		info, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", name, err)
		}
		segs = append(segs, segment{name: name, num: num, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmpInt(a.num, b.num) })
	return segs, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lineReader reads a segment line by line, bounding line length.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	off int64 // offset of the next line
	n   int   // number of the last line read, from 1
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// line is one line as read: its bytes without the newline, where it
// starts, whether a newline ended it, and whether it was cut at maxLineLen.
type line struct {
	b        []byte
	start    int64
	complete bool
	long     bool
}

// next returns the next line, or io.EOF. The bytes are valid until the
// following call.
func (lr *lineReader) next() (line, error) {
	lr.buf = lr.buf[:0]
	l := line{start: lr.off}
	size := 0
	for {
		frag, err := lr.br.ReadSlice('\n')
		size += len(frag)
		if len(lr.buf)+len(frag) <= maxLineLen+1 {
			lr.buf = append(lr.buf, frag...)
		} else {
			l.long = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return l, err
		}
		if size == 0 {
			return l, io.EOF
		}
		lr.off += int64(size)
		lr.n++
		l.complete = err == nil
		l.b = lr.buf
		if l.complete && !l.long {
			l.b = lr.buf[:len(lr.buf)-1]
		}
		return l, nil
	}
}

// firstEntry reads the first entry of the segment at path and checks its
// hash under ks.
func firstEntry(path string, ks *Keys) (Entry, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Entry{}, "", err
	}
	defer f.Close()
	l, err := newLineReader(f).next()
	if err != nil {
		return Entry{}, "", fmt.Errorf("read first entry of %s: %w", filepath.Base(path), err)
	}
	e, body, h, err := parseLine(l.b)
	if err == nil {
		err = checkHash(ks, &e, body, h)
	}
	if err != nil {
		return Entry{}, "", fmt.Errorf("first entry of %s: %w", filepath.Base(path), err)
	}
	return e, h, nil
}

// tail is what Open learns from the end of a segment.
type tail struct {
	head     *Entry // last valid entry, nil if none
	hash     string // its hash
	fragment int64  // start of an incomplete last line, -1 if none
	invalid  int    // complete invalid lines after the last valid entry
	// unknown is the first entry after the last valid one that is keyed
	// with a key ks does not hold: the log cannot go on from there.
	unknown error
	size    int64
}

// scanTail reads the segment at path to find its last valid entry (its
// hash checked under ks) and what follows it.
func scanTail(path string, ks *Keys) (tail, error) {
	t := tail{fragment: -1}
	f, err := os.Open(path)
	if err != nil {
		return t, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	lr := newLineReader(f)
	for {
		l, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return t, fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		if !l.complete {
			t.fragment = l.start
			break
		}
		e, body, h, perr := parseLine(l.b)
		if perr == nil && !l.long {
			perr = checkHash(ks, &e, body, h)
		}
		switch {
		case errors.Is(perr, errUnknownKey):
			if t.unknown == nil {
				t.unknown = fmt.Errorf("%s line %d (seq %d): %w", filepath.Base(path), lr.n, e.Seq, perr)
			}
		case perr != nil || l.long:
			t.invalid++
		default:
			t.head, t.hash, t.invalid, t.unknown = &e, h, 0, nil
		}
	}
	t.size = lr.off
	return t, nil
}
