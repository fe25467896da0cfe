package filter

import "sync/atomic"

// Stats are the filter's counters: plain atomics, read by the metrics
// adapter, which labels the arrays by Reason.String.
type Stats struct {
	// Allowed counts requests that passed every check (shadow-mode
	// would-be refusals are in Shadowed instead).
	Allowed atomic.Uint64
	// Allowlisted counts requests let through by the allowlist.
	Allowlisted atomic.Uint64
	// Refused counts refusals by reason.
	Refused [NumReasons]atomic.Uint64
	// Shadowed counts, in shadow mode, the requests that would have been
	// refused, by reason; they passed.
	Shadowed [NumReasons]atomic.Uint64
}
