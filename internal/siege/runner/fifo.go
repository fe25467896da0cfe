package runner

import (
	"cmp"
	"slices"
)

// fifoViewer is one admitted viewer as the FIFO count sees it: when it
// sent its first request, when it received its first ticket (0: it never
// queued), and its admission sequence number. Times are in any one unit
// (unix nanoseconds).
type fifoViewer struct {
	arrived, ticketed int64
	seq               int64
}

// fifoViolations counts the pairs (A, B) of admitted viewers where A
// received its ticket strictly before B sent its first request, yet B was
// admitted before A (seq B < seq A): B overtook A in the queue, whether B
// queued too or was let in directly. It also returns how many viewers are
// in at least one such pair, on either side. O(n log n).
func fifoViolations(vs []fifoViewer) (pairs, involved int64) {
	byArrival := order(vs, func(v fifoViewer) int64 { return v.arrived })
	var byTicket []int // the viewers that queued, by ticket time
	for _, i := range order(vs, func(v fifoViewer) int64 { return v.ticketed }) {
		if vs[i].ticketed != 0 {
			byTicket = append(byTicket, i)
		}
	}
	in := make([]bool, len(vs))
	pairs = overtaken(vs, byArrival, byTicket, in)
	overtakers(vs, byArrival, byTicket, in)
	for _, b := range in {
		if b {
			involved++
		}
	}
	return pairs, involved
}

// overtaken sweeps the tickets latest first, with the sequence numbers of
// every viewer that arrived strictly after the ticket in a Fenwick tree:
// those below A's own overtook A. It marks the overtaken in in and
// returns the pairs.
func overtaken(vs []fifoViewer, byArrival, byTicket []int, in []bool) int64 {
	ranks := seqRanks(vs)
	tree := make(fenwick, len(ranks)+1)
	var pairs int64
	next := len(byArrival) - 1
	for k := len(byTicket) - 1; k >= 0; k-- {
		a := vs[byTicket[k]]
		for ; next >= 0 && vs[byArrival[next]].arrived > a.ticketed; next-- {
			tree.add(ranks[vs[byArrival[next]].seq])
		}
		if n := tree.below(ranks[a.seq]); n > 0 {
			pairs += n
			in[byTicket[k]] = true
		}
	}
	return pairs
}

// overtakers sweeps the arrivals earliest first, with the highest sequence
// number among the tickets received strictly before: a viewer below it
// overtook someone. It marks the overtakers in in.
func overtakers(vs []fifoViewer, byArrival, byTicket []int, in []bool) {
	next, highest := 0, int64(-1<<63)
	for _, b := range byArrival {
		for ; next < len(byTicket) && vs[byTicket[next]].ticketed < vs[b].arrived; next++ {
			highest = max(highest, vs[byTicket[next]].seq)
		}
		if highest > vs[b].seq {
			in[b] = true
		}
	}
}

// order returns the indices of vs sorted by key, stable.
func order(vs []fifoViewer, key func(fifoViewer) int64) []int {
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(key(vs[a]), key(vs[b])) })
	return idx
}

// seqRanks maps each distinct sequence number to its rank, from 1.
func seqRanks(vs []fifoViewer) map[int64]int {
	seqs := make([]int64, 0, len(vs))
	for _, v := range vs {
		seqs = append(seqs, v.seq)
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	ranks := make(map[int64]int, len(seqs))
	for i, s := range seqs {
		ranks[s] = i + 1
	}
	return ranks
}

// fenwick is a binary indexed tree counting values by rank, from 1.
type fenwick []int64

func (f fenwick) add(rank int) {
	for i := rank; i < len(f); i += i & -i {
		f[i]++
	}
}

// below counts the values of rank strictly less than rank.
func (f fenwick) below(rank int) int64 {
	var n int64
	for i := rank - 1; i > 0; i -= i & -i {
		n += f[i]
	}
	return n
}
