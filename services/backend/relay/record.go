package relay

import (
	"context"
	"fmt"
	"time"
)

// Publication records: the relay writes one record per event the broker confirmed, so that
// recovery does not publish it again. Confirmed events wait in Relay.unrecorded and are
// recorded together (RecordAfter, RecordBatch), at once while a recovery waits for them, and
// at stop.

// recordDue says whether the confirmed events must be recorded now: RecordBatch of them
// wait, or the oldest waited RecordAfter, or a recovery waits for events to be out (done
// empties it, so the checkpoint advances in the same drain instead of a sweep later).
func (r *Relay) recordDue() bool {
	if len(r.unrecorded) == 0 {
		return false
	}
	return len(r.unrecorded) >= r.cfg.RecordBatch || len(r.recovering) > 0 ||
		time.Since(r.unrecordedSince) >= r.cfg.RecordAfter
}

// recordTimer fires when the waiting confirmed events become due; nil (never) when none wait.
func (r *Relay) recordTimer() <-chan time.Time {
	if len(r.unrecorded) == 0 {
		return nil
	}
	return time.After(max(time.Until(r.unrecordedSince.Add(r.cfg.RecordAfter)), 0))
}

// record writes one publication record for every confirmed event waiting. It is bounded
// like a round, and not cancelled with ctx: records need the database, not the broker, and
// are written while the broker is away and at stop.
func (r *Relay) record(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ConfirmTimeout)
	defer cancel()
	if err := r.src.Published(ctx, r.unrecorded); err != nil {
		return fmt.Errorf("record published events: %w", err)
	}
	r.done(r.unrecorded)
	r.unrecorded = nil
	return nil
}

// recordOnExit records what the broker confirmed before Run returns, so that a clean stop
// leaves nothing for recovery to publish again.
func (r *Relay) recordOnExit(ctx context.Context) {
	if len(r.unrecorded) == 0 {
		return
	}
	if err := r.record(ctx); err != nil {
		r.log.WarnContext(ctx, "confirmed events not recorded at stop; recovery will publish them again",
			"count", len(r.unrecorded), "err", err)
	}
}
