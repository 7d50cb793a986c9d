package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// msgExternalReplicaSet is ReplicaSetInitialized's message for a shop with an external database.
const msgExternalReplicaSet = "not managed: the database is external (spec.mongodb.external)"

// reconcileExternalMongoDB checks the external database a shop names: the Secret must hold
// a connection string, and the primary must answer a ping with the Secret's credentials.
// A database that does not answer is a status, not a reconcile error: the operator did all
// it can, and looks again after ExternalMongoDB.Resync.
func (r *LittleEcomReconciler) reconcileExternalMongoDB(ctx context.Context, st *reconcileState, ext *shopv1.ExternalMongoDBSpec) error {
	shop := st.shop.Instance
	resync := r.External.resync()
	st.requeue(resync)

	name, key := ext.SecretRef.Name, resource.ExternalMongoDBURIKey(ext)
	source := fmt.Sprintf("Secret %s, key %s", name, key)
	data, err := r.secret(ctx, st, name)
	switch {
	case apierrors.IsNotFound(err):
		r.observeExternal(st, externalObservation{shopv1.ReasonExternalSecretMissing,
			fmt.Sprintf("Secret %s (spec.mongodb.external.secretRef) does not exist", name)})
		return nil
	case err != nil:
		return st.fail(shopv1.ConditionMongoDBReady, err)
	}
	conn := externalConnection{
		uri:      string(data[key]),
		username: string(data[contract.SecretKeyUsername]),
		password: string(data[contract.SecretKeyPassword]),
	}
	if conn.uri == "" {
		r.observeExternal(st, externalObservation{shopv1.ReasonExternalSecretMissing,
			fmt.Sprintf("Secret %s has no key %s: it must hold the mongodb:// or mongodb+srv:// connection string", name, key)})
		return nil
	}

	// One ping per Resync, however many events reconcile the shop in between.
	memo := r.memory.of(shop)
	digest := conn.digest(source)
	now := time.Now()
	if last := memo.external; last.digest == digest && now.Sub(last.at) < resync {
		st.external = last.obs
		st.requeue(resync - now.Sub(last.at))
		return nil
	}
	obs := r.External.check(ctx, conn, source)
	memo.external = externalCheck{digest: digest, at: now, obs: obs}
	r.observeExternal(st, obs)
	return nil
}

// observeExternal records a check for status and, when its outcome differs from what the
// status says, an event.
func (r *LittleEcomReconciler) observeExternal(st *reconcileState, obs externalObservation) {
	st.external = obs
	shop := st.shop.Instance
	if c := meta.FindStatusCondition(shop.Status.Conditions, shopv1.ConditionMongoDBReady); c != nil && c.Reason == obs.reason {
		return
	}
	kind := corev1.EventTypeWarning
	if obs.reason == shopv1.ReasonExternalReachable {
		kind = corev1.EventTypeNormal
	}
	r.Recorder.Eventf(shop, nil, kind, obs.reason, "Ping", "external MongoDB: %s", obs.message)
}

// externalCheck is the last check of a shop's external database, kept between reconciles.
type externalCheck struct {
	digest string // of the connection and its source; a change checks again at once
	at     time.Time
	obs    externalObservation
}

// digest identifies the connection without revealing it.
func (c externalConnection) digest(source string) string {
	h := sha256.Sum256([]byte(source + "\x00" + c.uri + "\x00" + c.username + "\x00" + c.password))
	return hex.EncodeToString(h[:])
}

// externalMongoDBCondition is MongoDBReady of a shop with an external database.
func externalMongoDBCondition(obs externalObservation, failure error) conditionStatus {
	switch {
	case failure != nil:
		return absentOrFailed(failure)
	case obs.reason == "":
		return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, "not checked yet"}
	case obs.reason == shopv1.ReasonExternalReachable:
		return conditionStatus{metav1.ConditionTrue, obs.reason, obs.message}
	}
	return conditionStatus{metav1.ConditionFalse, obs.reason, obs.message}
}
