package sim

import "sync/atomic"

// Budget is the run's hard cap on requests: every model takes one unit
// before each request (and each attack connection) and stops when refused.
type Budget struct {
	left atomic.Int64
}

// NewBudget returns a budget of n requests.
func NewBudget(n int64) *Budget {
	b := &Budget{}
	b.left.Store(n)
	return b
}

// Take reserves one request; false means the run's cap is reached.
func (b *Budget) Take() bool { return b.left.Add(-1) >= 0 }

// Left returns how many requests remain (never negative).
func (b *Budget) Left() int64 { return max(b.left.Load(), 0) }
