package admission

import (
	"math/rand/v2"
	"time"
)

// turn is what a ticket holder is told: wait (with the figures to show),
// or come in.
type turn struct {
	admitted bool
	seq      uint64 // the admission number, when admitted
	number   uint64 // the ticket's number
	position int    // tickets ahead plus one; 0 when unknown (raffle, pre-queue)
	wait     time.Duration
	retry    time.Duration
	opensIn  time.Duration // > 0 in the pre-queue
	raffle   bool
}

// enterLocked admits a newcomer at once when a place is free and nobody is
// waiting, returning its admission number; 0 when it must take a ticket.
func (r *Room) enterLocked(now time.Time) uint64 {
	r.openDoorsLocked(now)
	if !r.opened || r.waitingLocked() > 0 || r.freeLocked() <= 0 || !r.takeAdmitLocked(now) {
		return 0
	}
	return r.nextSeqLocked()
}

// queueLocked gives a newcomer a ticket and puts it in line (or in the
// pre-queue before the doors open). ok is false when the line is full.
func (r *Room) queueLocked(now time.Time, account string) (t *ticket, ok bool) {
	if r.waitingLocked() >= r.cfg.Queue.MaxLength {
		return nil, false
	}
	r.nextTkt++
	t = &ticket{number: r.nextTkt, slot: -1, lastSeen: now, account: account}
	r.tickets[t.number] = t
	if r.opened {
		r.line.push(t)
	} else {
		r.pre = append(r.pre, t)
	}
	r.stats.Tickets.Add(1)
	return t, true
}

// pollLocked is a ticket holder coming back: its turn, or false if the
// ticket is no longer in the room (redeemed or dropped).
func (r *Room) pollLocked(number uint64, now time.Time) (turn, bool) {
	t := r.tickets[number]
	if t == nil {
		return turn{}, false
	}
	t.lastSeen = now
	r.openDoorsLocked(now)
	r.pumpLocked(now)
	if !t.grantedAt.IsZero() {
		delete(r.tickets, number)
		r.granted--
		return turn{admitted: true, seq: t.seq, number: number}, true
	}
	return r.turnLocked(t, now), true
}

// turnLocked is what waiting ticket t is told at now: position, wait,
// when to come back.
func (r *Room) turnLocked(t *ticket, now time.Time) turn {
	tu := turn{number: t.number, raffle: r.cfg.Queue.Order == "raffle"}
	if !r.opened {
		tu.opensIn = r.cfg.Queue.EventStartTime().Sub(now)
		tu.retry = r.retryLocked(tu.opensIn)
		return tu
	}
	ahead := r.line.position(t)
	if tu.raffle {
		ahead = (r.line.live + 1) / 2 // the mean wait of a draw
	} else {
		tu.position = ahead
	}
	tu.wait = r.estimateLocked(ahead, now)
	tu.retry = r.retryLocked(tu.wait)
	return tu
}

// estimateLocked is the wait of the ahead-th ticket in line: until ahead
// places have freed by the life table's projection, or at the admission
// rate if that is slower (or while places are free), plus half the
// shortest polling interval (a place granted is taken at the holder's next
// poll). Negative when the room cannot tell yet.
func (r *Room) estimateLocked(ahead int, now time.Time) time.Duration {
	w := time.Duration(0)
	if r.freeLocked() <= 0 {
		if w = r.life.wait(ahead); w < 0 {
			return -1
		}
		w = max(w-now.Sub(r.lastTick), 0) // projected at the last sweep
	}
	if ar := r.capacity.AdmitRate; ar > 0 {
		w = max(w, time.Duration(float64(ahead)/ar*float64(time.Second)))
	}
	if w == 0 {
		return 0
	}
	return w + r.cfg.Queue.PollMin/2
}

// retryLocked tells a waiting client when to come back: a tenth of its
// wait within [poll_min, poll_max], jittered ±20 % so that a room of
// 100,000 does not poll in step.
func (r *Room) retryLocked(wait time.Duration) time.Duration {
	q := &r.cfg.Queue
	d := q.PollMax
	if wait >= 0 {
		d = min(max(wait/10, q.PollMin), q.PollMax)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// pumpLocked grants free places to waiting tickets: the head of the line
// (FIFO) or a draw (raffle), within the admission rate.
func (r *Room) pumpLocked(now time.Time) {
	for r.line.live > 0 && r.freeLocked() > 0 {
		if !r.takeAdmitLocked(now) {
			return
		}
		t := r.line.first()
		if r.cfg.Queue.Order == "raffle" {
			t = r.line.nth(1 + rand.IntN(r.line.live))
		}
		r.line.remove(t)
		t.grantedAt, t.seq = now, r.nextSeqLocked()
		r.granted++
		r.stats.Granted.Add(1)
	}
}

// openDoorsLocked opens the doors at the event's start: the pre-queue is
// shuffled, once, and joins the line ahead of everyone after.
func (r *Room) openDoorsLocked(now time.Time) {
	if r.opened || now.Before(r.cfg.Queue.EventStartTime()) {
		return
	}
	rand.Shuffle(len(r.pre), func(i, j int) { r.pre[i], r.pre[j] = r.pre[j], r.pre[i] })
	for _, t := range r.pre {
		r.line.push(t)
	}
	r.pre, r.opened = nil, true
	r.logger.Info("admission doors open", "prequeue", r.line.live)
}

// sweepLocked drops tickets not presented for abandon_after and places
// granted but not taken within grant_hold.
func (r *Room) sweepLocked(now time.Time) {
	q := &r.cfg.Queue
	for n, t := range r.tickets {
		switch {
		case !t.grantedAt.IsZero() && now.Sub(t.grantedAt) > q.GrantHold:
			r.granted--
			r.stats.Expired.Add(1)
		case t.grantedAt.IsZero() && now.Sub(t.lastSeen) > q.AbandonAfter:
			r.line.remove(t)
			r.dropPreLocked(t)
			r.stats.Abandoned.Add(1)
		default:
			continue
		}
		delete(r.tickets, n)
	}
}

func (r *Room) dropPreLocked(t *ticket) {
	for i, p := range r.pre {
		if p == t {
			r.pre = append(r.pre[:i], r.pre[i+1:]...)
			return
		}
	}
}

// Tick does the room's housekeeping at now: sessions idle or too old end,
// abandoned tickets are dropped, freed places are granted. The edge calls
// it about four times a second.
func (r *Room) Tick(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since := now.Sub(r.lastTick); since >= time.Second {
		r.lastTick = now
		r.life.begin(min(since, 5*time.Second))
		ended := r.ses.sweep(now, now.Add(-r.cfg.SessionIdle), now.Add(-r.cfg.SessionMaxAge), &r.life)
		r.departed.add(now, ended)
		r.stats.Ended.Add(uint64(ended))
		r.sweepLocked(now)
		r.egress.tick(now, r.capacity.MaxEgress)
		r.life.project(r.granted, float64(r.line.live+1))
	}
	r.openDoorsLocked(now)
	r.pumpLocked(now)
}
