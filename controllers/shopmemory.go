package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors"
)

// shopMemory is what the reconciler keeps about each shop between reconciles, in memory
// only (an operator restart starts afresh, which costs one more round of writes): the
// digest of the database users last ensured, so users are written once per change and not
// on every resync, since when the replica set waits in its current phase, for the
// back-off, and the last check of an external database, so it is pinged once per resync.
// Entries are by name and belong to one incarnation of the shop (its UID): a shop deleted
// and created again under its name has a new replica set and starts afresh, and a deleted
// shop's entry goes when its reconcile finds it gone.
type shopMemory struct {
	mu    sync.Mutex
	shops map[types.NamespacedName]*shopMemo
}

// shopMemo is one shop's entry. Only that shop's reconcile reads or writes it, and
// controller-runtime never runs two reconciles of one shop at once.
type shopMemo struct {
	uid         types.UID
	usersDigest string // "" until users were ensured
	waiting     waitingPhase
	external    externalCheck // the last ping of an external database
	rollout     rolloutMemo   // the MongoDB rollout's FCV check (phase_mongodb_rollout.go)
}

type waitingPhase struct {
	phase mongors.Phase
	since time.Time
}

// of returns the shop's entry, a fresh one for a shop not seen before or seen under another
// incarnation.
func (m *shopMemory) of(shop *shopv1.LittleEcom) *shopMemo {
	key := types.NamespacedName{Namespace: shop.Namespace, Name: shop.Name}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shops == nil {
		m.shops = map[types.NamespacedName]*shopMemo{}
	}
	e := m.shops[key]
	if e == nil || e.uid != shop.UID {
		e = &shopMemo{uid: shop.UID}
		m.shops[key] = e
	}
	return e
}

// forget drops a deleted shop's entry.
func (m *shopMemory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.shops, key)
}

// backoff is how long to wait before looking again at a replica set that is on its way
// (electing a primary, a member catching up): the longer it has been in this phase, the
// less often, from replicaSetPoll up to replicaSetMaxPoll, so a stuck set costs little.
// (A condition's LastTransitionTime would not do as the start: it moves only when the
// status flips, so the wait for pods would count as waiting for a primary.)
func (e *shopMemo) backoff(phase mongors.Phase, now time.Time) time.Duration {
	if e.waiting.since.IsZero() || e.waiting.phase != phase {
		e.waiting = waitingPhase{phase: phase, since: now}
	}
	return min(max(now.Sub(e.waiting.since)/4, replicaSetPoll), replicaSetMaxPoll)
}
