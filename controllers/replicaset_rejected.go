package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// replicaSetRejectedRecheck is how often a replica set whose last request MongoDB refused
// for good (mongors.PhaseRejected) is tried again with unchanged inputs: a person may have
// fixed the set by hand, which no Kubernetes event announces.
const replicaSetRejectedRecheck = 10 * time.Minute

// rejectionMemory remembers, per shop, the inputs of a request MongoDB refused for good,
// so that the same request is not sent again on every reconcile. It is in memory only: an
// operator restart tries once more, which is what a person expects after one.
type rejectionMemory struct {
	mu    sync.Mutex
	shops map[types.NamespacedName]rejection
}

type rejection struct {
	uid     types.UID
	inputs  string
	message string
	at      time.Time
}

// rejectionInputs digests what a new attempt could change: the spec (its generation), the
// users' credentials and grants, and the root credentials. It reveals none of them.
func rejectionInputs(shop *shopv1.LittleEcom, usersDigest string, root resource.Credentials) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s", shop.Generation, usersDigest, root.Username, root.Password)
	return hex.EncodeToString(h.Sum(nil))
}

// holds returns the remembered refusal's message when the shop's inputs have not changed
// since and the recheck time has not come.
func (m *rejectionMemory) holds(shop *shopv1.LittleEcom, inputs string, now time.Time) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.shops[keyOf(shop)]
	if !ok || r.uid != shop.UID || r.inputs != inputs || now.Sub(r.at) >= replicaSetRejectedRecheck {
		return "", false
	}
	return r.message, true
}

func (m *rejectionMemory) remember(shop *shopv1.LittleEcom, inputs, message string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shops == nil {
		m.shops = map[types.NamespacedName]rejection{}
	}
	m.shops[keyOf(shop)] = rejection{uid: shop.UID, inputs: inputs, message: message, at: now}
}

func (m *rejectionMemory) forget(shop *shopv1.LittleEcom) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.shops, keyOf(shop))
}

func keyOf(shop *shopv1.LittleEcom) types.NamespacedName {
	return types.NamespacedName{Namespace: shop.Namespace, Name: shop.Name}
}
