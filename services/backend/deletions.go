package backend

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/accountdeletion"
)

// A deleted account must leave the shop: its unsold listings go off sale, and the access
// tokens it still holds (verified without asking auth) stop working. Auth records each
// deletion (accountdeletion); every backend replica reads the records every pollEvery,
// refuses the account's tokens from then on, and takes its listings down: once at once,
// and once more resweepAfter later, for an item that a request this replica had already
// admitted wrote after the first sweep. Every replica sweeps on its own, after it started
// refusing, so no replica can add a listing that no sweep removes.

// Timings of the deletion watcher.
const (
	deletionPollEvery = 2 * time.Second
	// deletionOverlap re-reads records a little older than the newest seen: auth replicas'
	// clocks differ, so a record may arrive dated before one already read.
	deletionOverlap = time.Minute
	// resweepAfter outlasts any request admitted before the first sweep (requestTimeout).
	resweepAfter = requestTimeout + deletionPollEvery
)

// deletionWatcher knows the deleted accounts and takes their listings down.
type deletionWatcher struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time

	mu    sync.RWMutex
	known map[string]*deletedAccount // account id
	since time.Time                  // newest deleted_at read
	// failing is the last read error's text, so a lasting failure is logged once.
	failing string
}

type deletedAccount struct {
	rec    accountdeletion.Record
	seen   time.Time // when this replica learned of it
	sweeps int
}

func newDeletionWatcher(st *store.Store, log *slog.Logger) *deletionWatcher {
	return &deletionWatcher{store: st, log: log, now: time.Now, known: map[string]*deletedAccount{}}
}

// Deleted reports whether auth deleted the account (DeletedAccounts).
func (w *deletionWatcher) Deleted(accountID string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	_, ok := w.known[accountID]
	return ok
}

// run polls until ctx ends.
func (w *deletionWatcher) run(ctx context.Context) {
	t := time.NewTicker(deletionPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, requestTimeout)
			w.poll(pctx)
			cancel()
		}
	}
}

// poll reads the new records and sweeps what is due. Failures are logged (once while they
// last) and retried at the next poll.
func (w *deletionWatcher) poll(ctx context.Context) {
	w.mu.RLock()
	from := w.since
	w.mu.RUnlock()
	if !from.IsZero() {
		from = from.Add(-deletionOverlap)
	}
	recs, err := w.store.DeletedAccounts(ctx, from)
	if w.report(err) {
		return
	}
	due := w.learn(recs)
	n, err := w.store.TakeDownListings(ctx, due)
	if w.report(err) {
		return
	}
	w.mu.Lock()
	for _, r := range due {
		if d := w.known[r.AccountID]; d != nil {
			d.sweeps++
		}
	}
	w.mu.Unlock()
	if n > 0 {
		w.log.Info("took the listings of deleted accounts off sale", "accounts", len(due), "listings", n)
	}
}

// learn adds the records not known yet and returns those due for a sweep.
func (w *deletionWatcher) learn(recs []accountdeletion.Record) []accountdeletion.Record {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range recs {
		if _, ok := w.known[r.AccountID]; !ok {
			w.known[r.AccountID] = &deletedAccount{rec: r, seen: now}
		}
		if r.DeletedAt.After(w.since) {
			w.since = r.DeletedAt
		}
	}
	var due []accountdeletion.Record
	for id, d := range w.known {
		switch {
		case d.sweeps == 0, d.sweeps == 1 && now.Sub(d.seen) >= resweepAfter:
			due = append(due, d.rec)
		case now.Sub(d.rec.DeletedAt) > accountdeletion.Retention:
			delete(w.known, id) // auth forgot it too; its tokens expired long ago
		}
	}
	return due
}

// report logs err unless it is the one logged last, and says whether there was one.
func (w *deletionWatcher) report(err error) bool {
	text := ""
	if err != nil {
		text = err.Error()
	}
	w.mu.Lock()
	changed := text != w.failing
	w.failing = text
	w.mu.Unlock()
	switch {
	case err != nil && changed:
		w.log.Warn("cannot read auth's account deletions: deleted accounts keep their listings and tokens until it works "+
			"(the backend's MongoDB user needs find on ecom-auth.account_deletions)", "err", err)
	case err == nil && changed:
		w.log.Info("reading auth's account deletions again")
	}
	return err != nil
}
