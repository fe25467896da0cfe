package admission

import (
	"sync"
	"sync/atomic"
	"time"
)

// session is an admitted viewer's place.
type session struct {
	id       uint64       // admission number
	started  time.Time    // when admitted
	account  string       // the playback token's subject, "" without one
	lastSeen atomic.Int64 // Unix nanoseconds of the last gated request
}

// sessions is the table of places taken. It is read on every gated
// request, so it has its own lock, taken for reading there.
type sessions struct {
	mu       sync.RWMutex        // guards m and accounts
	m        map[uint64]*session // by admission number
	accounts map[string]int      // sessions held per account
}

func newSessions() *sessions {
	return &sessions{m: map[uint64]*session{}, accounts: map[string]int{}}
}

// touch renews session id at now and returns it, or nil if it ended.
func (s *sessions) touch(id uint64, now time.Time) *session {
	s.mu.RLock()
	se := s.m[id]
	s.mu.RUnlock()
	if se != nil {
		se.lastSeen.Store(now.UnixNano())
	}
	return se
}

// add records a new session.
func (s *sessions) add(se *session) {
	s.mu.Lock()
	s.m[se.id] = se
	if se.account != "" {
		s.accounts[se.account]++
	}
	s.mu.Unlock()
}

// held returns how many sessions account holds.
func (s *sessions) held(account string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.accounts[account]
}

// count returns the number of sessions.
func (s *sessions) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// sweep ends the sessions idle since before idleBefore or started before
// agedBefore, counts every session's age at now in lt, and returns how
// many ended.
func (s *sessions) sweep(now, idleBefore, agedBefore time.Time, lt *lifetable) int {
	idle, aged := idleBefore.UnixNano(), agedBefore
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, se := range s.m {
		age := now.Sub(se.started).Seconds()
		if se.lastSeen.Load() >= idle && !se.started.Before(aged) {
			lt.alive(age)
			continue
		}
		lt.ended(age)
		delete(s.m, id)
		if se.account != "" {
			if s.accounts[se.account]--; s.accounts[se.account] <= 0 {
				delete(s.accounts, se.account)
			}
		}
		n++
	}
	return n
}
