package sim

// SegmentCounter is an optional interface of a Recorder. A viewer model
// that finds it on Env.Rec (by type assertion) reports each media segment
// it received, by URI, so that the runner can count distinct segments and
// relate them to the origin's fetches (origin requests per segment: 1.0
// means perfect coalescing at the edge).
//
//	if sc, ok := env.Rec.(sim.SegmentCounter); ok {
//		sc.Segment(c.Pop, uri)
//	}
type SegmentCounter interface {
	// Segment records that a viewer of pop received the segment uri (the
	// path, without host; query strings are part of the identity).
	Segment(pop int, uri string)
}
