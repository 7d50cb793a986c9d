package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// An entry belongs to one incarnation of a shop: the same name with a new UID starts afresh.
func TestShopMemory_OneEntryPerIncarnation(t *testing.T) {
	var m shopMemory
	shop := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "uid-1"}}
	m.of(shop).usersDigest = "d1"
	if got := m.of(shop).usersDigest; got != "d1" {
		t.Fatalf("same shop: digest %q, want the one remembered", got)
	}
	again := shop.DeepCopy()
	again.UID = "uid-2"
	if got := m.of(again).usersDigest; got != "" {
		t.Fatalf("shop created again under its name: digest %q, want none", got)
	}
	m.forget(types.NamespacedName{Namespace: "ns", Name: "shop"})
	if m.remembers(types.NamespacedName{Namespace: "ns", Name: "shop"}) {
		t.Fatal("a forgotten shop is still remembered")
	}
}

// remembers reports whether there is an entry for the shop of this name.
func (m *shopMemory) remembers(key types.NamespacedName) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.shops[key]
	return ok
}

// clear forgets every shop, as an operator restart does.
func (m *shopMemory) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.shops)
}
