package synth

import (
	"container/list"
	"sync"
)

// segmentKey names one generated live segment.
type segmentKey struct {
	rendition int
	seq       int64
}

// segmentCache is a small LRU of generated segments. Building a segment is
// cheap, so two requests racing on a miss both build it; the cache only
// spares the copy and rewrite for the many viewers of the live edge.
type segmentCache struct {
	max      int // entries
	maxBytes int // bytes of segment data; the newest entry is always kept

	mu    sync.Mutex // protects ll, m and bytes
	ll    *list.List // of *cacheEntry, most recent first
	m     map[segmentKey]*list.Element
	bytes int
}

type cacheEntry struct {
	key  segmentKey
	data []byte
}

// newSegmentCache returns an LRU holding at most limit segments (at least
// 1) and, beyond the newest one, at most maxBytes of data.
func newSegmentCache(limit, maxBytes int) *segmentCache {
	return &segmentCache{max: max(1, limit), maxBytes: maxBytes, ll: list.New(), m: map[segmentKey]*list.Element{}}
}

// get returns the cached segment for k.
func (c *segmentCache) get(k segmentKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*cacheEntry).data, true
}

// add stores data under k, evicting the least recently used beyond max.
func (c *segmentCache) add(k segmentKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.m[k] = c.ll.PushFront(&cacheEntry{key: k, data: data})
	c.bytes += len(data)
	for c.ll.Len() > c.max || (c.bytes > c.maxBytes && c.ll.Len() > 1) {
		last := c.ll.Remove(c.ll.Back()).(*cacheEntry)
		delete(c.m, last.key)
		c.bytes -= len(last.data)
	}
}

// len returns the number of cached segments.
func (c *segmentCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
