package admission

// line is the waiting line: tickets in order, with the count of those still
// waiting ahead of any one in O(log n) (a Fenwick tree over their slots),
// so that a position is exact even when holders leave from the middle.
// Slots are indexes into an append-only slice; the slice is compacted when
// its dead head outgrows its live part. Not safe for concurrent use.
type line struct {
	slots []*ticket // slot → ticket; nil once it left
	tree  []int32   // Fenwick tree over slots, 1-based, len(slots)+1 or more
	head  int       // first slot that may still hold a ticket
	live  int       // tickets in the line
}

// push appends t to the line and sets its slot.
func (l *line) push(t *ticket) {
	if len(l.slots) >= len(l.tree)-1 {
		l.compact()
	}
	t.slot = len(l.slots)
	l.slots = append(l.slots, t)
	l.add(t.slot, 1)
	l.live++
}

// remove takes t out of the line.
func (l *line) remove(t *ticket) {
	if t.slot < 0 || t.slot >= len(l.slots) || l.slots[t.slot] != t {
		return
	}
	l.slots[t.slot] = nil
	l.add(t.slot, -1)
	l.live--
	t.slot = -1
	for l.head < len(l.slots) && l.slots[l.head] == nil {
		l.head++
	}
}

// first returns the ticket at the head of the line, nil if none.
func (l *line) first() *ticket {
	if l.head < len(l.slots) {
		return l.slots[l.head]
	}
	return nil
}

// position returns how many tickets are ahead of t, plus one.
func (l *line) position(t *ticket) int {
	if t.slot < 0 {
		return 0
	}
	n := 0
	for i := t.slot + 1; i > 0; i -= i & -i {
		n += int(l.tree[i])
	}
	return n
}

// nth returns the ticket at position k (1-based) among those waiting.
func (l *line) nth(k int) *ticket {
	if k < 1 || k > l.live {
		return nil
	}
	pos := 0
	for step := highBit(len(l.tree) - 1); step > 0; step >>= 1 {
		if next := pos + step; next < len(l.tree) && int(l.tree[next]) < k {
			pos = next
			k -= int(l.tree[next])
		}
	}
	return l.slots[pos] // pos is the 0-based slot: the 1-based index pos+1
}

func (l *line) add(slot, d int) {
	for i := slot + 1; i < len(l.tree); i += i & -i {
		l.tree[i] += int32(d)
	}
}

// compact drops the dead head, renumbers the slots, and makes room for as
// many tickets again as are live (at least 1024).
func (l *line) compact() {
	kept := make([]*ticket, 0, max(2*l.live, 1024))
	for _, t := range l.slots[l.head:] {
		if t != nil {
			t.slot = len(kept)
			kept = append(kept, t)
		}
	}
	l.slots, l.head = kept, 0
	l.tree = make([]int32, cap(kept)+1)
	for i := range kept {
		l.add(i, 1)
	}
}

func highBit(n int) int {
	b := 1
	for b<<1 <= n {
		b <<= 1
	}
	return b
}
