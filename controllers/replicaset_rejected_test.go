package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

func TestRejectionMemory_HoldsUntilInputsChangeOrRecheck(t *testing.T) {
	shop := &shopv1.LittleEcom{}
	shop.Namespace, shop.Name, shop.UID, shop.Generation = "ns", "shop", types.UID("uid-1"), 3
	root := resource.Credentials{Username: "root", Password: "pw"}
	inputs := rejectionInputs(shop, "users", root)
	start := time.Now()
	var m rejectionMemory
	m.remember(shop, inputs, "refused", start)

	newGeneration := shop.DeepCopy()
	newGeneration.Generation++
	otherIncarnation := shop.DeepCopy()
	otherIncarnation.UID = "uid-2"
	tests := []struct {
		name   string
		shop   *shopv1.LittleEcom
		inputs string
		at     time.Time
		holds  bool
	}{
		{"same inputs", shop, inputs, start.Add(time.Minute), true},
		{"spec changed", newGeneration, rejectionInputs(newGeneration, "users", root), start.Add(time.Minute), false},
		{"users changed", shop, rejectionInputs(shop, "other users", root), start.Add(time.Minute), false},
		{"root password changed", shop, rejectionInputs(shop, "users", resource.Credentials{Username: "root", Password: "new"}), start.Add(time.Minute), false},
		{"recheck time came", shop, inputs, start.Add(replicaSetRejectedRecheck), false},
		{"shop deleted and created again", otherIncarnation, inputs, start.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, ok := m.holds(tt.shop, tt.inputs, tt.at)
			if ok != tt.holds || ok && msg != "refused" {
				t.Errorf("holds = %q, %v; want %v", msg, ok, tt.holds)
			}
		})
	}
	m.forget(shop)
	if _, ok := m.holds(shop, inputs, start); ok {
		t.Error("held after forget")
	}
}

func TestRejectionInputs_RevealNoSecret(t *testing.T) {
	shop := &shopv1.LittleEcom{}
	got := rejectionInputs(shop, "digest", resource.Credentials{Username: "root", Password: "s3cret-pw"})
	if len(got) != 64 {
		t.Errorf("inputs %q are not a SHA-256 digest", got)
	}
}
