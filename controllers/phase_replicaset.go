package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/resource"
)

// ReplicaSetManager initiates and reconfigures a MongoDB replica set and creates the
// services' users. Production dials the pods with the Go driver; tests dial a wire-protocol
// double through the same code.
type ReplicaSetManager interface {
	Ensure(ctx context.Context, target mongors.Target, desired mongors.Desired) (mongors.Result, error)
}

// DriverReplicaSetManager runs mongors.Ensure through dialer.
type DriverReplicaSetManager struct{ Dialer mongors.Dialer }

// Ensure implements ReplicaSetManager.
func (m DriverReplicaSetManager) Ensure(ctx context.Context, target mongors.Target, desired mongors.Desired) (mongors.Result, error) {
	return mongors.Ensure(ctx, m.Dialer, target, desired)
}

// DefaultReplicaSetManager dials the members by their pod DNS names, which resolve only
// inside the cluster. An operator run outside it (make run) reports the replica set as
// Unreachable with that explanation rather than port-forwarding: a port-forward per member
// would need pods/portforward rights and could not give the driver the member names the
// replica-set config must contain.
func DefaultReplicaSetManager() ReplicaSetManager {
	return DriverReplicaSetManager{Dialer: mongors.DriverDialer{}}
}

// Bounds of one replica-set step inside a reconcile: a worker is never held for long, and
// the phase asks to be called again while the set is on its way. replSetReconfig and
// replSetStepDown get mongors.DefaultReconfigTimeout (15 s), more than mongod's own waits
// (a quorum check up to 10 s, a step-down's catch-up period of 10 s), so that mongod's
// answer, not our timeout, says what is wrong; the call as a whole gets room for one such
// command after the quick ones, and the next reconcile continues where it stopped.
const (
	replicaSetCallTimeout = 30 * time.Second
	replicaSetCmdTimeout  = 5 * time.Second
	replicaSetPrimaryWait = 3 * time.Second
	replicaSetPoll        = 5 * time.Second
	replicaSetMaxPoll     = time.Minute
	replicaSetResync      = 2 * time.Minute
)

// replicaSetObservation is what the replica-set phase saw, for status.
type replicaSetObservation struct {
	reason      string
	message     string
	initialized bool
	members     []shopv1.MongoDBMemberStatus
	primary     string
}

// mongoDBStatefulSetReplicas keeps the StatefulSet at the members the replica set still
// has while a scale-down removes them: pods go only after they left the set.
func mongoDBStatefulSetReplicas(shop *shopv1.LittleEcom) *int32 {
	desired := resource.MongoDBReplicas(shop.Spec.MongoDB)
	if members := int32(len(shop.Status.MongoDB.Members)); shop.Status.MongoDB.Initialized && members > desired {
		return new(members)
	}
	return nil
}

// reconcileReplicaSet initiates the replica set once its pods answer, reconfigures it when
// spec.mongodb.replicas changes and creates the services' users.
func (r *LittleEcomReconciler) reconcileReplicaSet(ctx context.Context, st *reconcileState) error {
	shop := st.shop.Instance
	if st.shop.MongoDBExternal() != nil {
		st.replicaSet = replicaSetObservation{reason: shopv1.ReasonExternalDatabase, message: msgExternalReplicaSet}
		return nil
	}
	prev := shop.Status.MongoDB
	// Until told otherwise, keep what the last reconcile saw.
	st.replicaSet = replicaSetObservation{reason: prev.State, initialized: prev.Initialized,
		members: prev.Members, primary: prev.Primary}
	if r.ReplicaSet == nil {
		st.replicaSet.reason, st.replicaSet.message = shopv1.ReasonUnreachable, "replica-set management is not configured in this operator"
		return nil
	}

	sts := st.statefulSets[resource.ComponentMongoDB]
	if sts == nil {
		st.replicaSet.reason, st.replicaSet.message = shopv1.ReasonWaitingForPods, "the StatefulSet is not there yet"
		return nil
	}
	want := ptr.Deref(sts.Spec.Replicas, 1)
	if sts.Status.ObservedGeneration < sts.Generation || sts.Status.ReadyReplicas < want {
		// The StatefulSet's status change will bring the next reconcile; no polling.
		st.replicaSet.reason = shopv1.ReasonWaitingForPods
		st.replicaSet.message = fmt.Sprintf("%d/%d members ready", sts.Status.ReadyReplicas, want)
		return nil
	}

	root, err := r.secret(ctx, st, st.shop.MongoDBRootSecretName())
	if err != nil {
		return st.fail(shopv1.ConditionReplicaSetInitialized, err)
	}
	desired := mongors.Desired{
		Topology: mongors.Topology{Name: shop.Name, Namespace: shop.Namespace,
			ReplicaSet: resource.MongoDBReplicaSetName(shop.Spec.MongoDB)},
		Members:      int(resource.MongoDBReplicas(shop.Spec.MongoDB)),
		PrimaryWait:  replicaSetPrimaryWait,
		PollInterval: 250 * time.Millisecond,
	}
	users, digest, err := r.serviceUsers(ctx, st)
	if err != nil {
		return st.fail(shopv1.ConditionReplicaSetInitialized, err)
	}
	memo := r.memory.of(shop)
	if memo.usersDigest != digest {
		desired.Users = users
		desired.CustomRoles = serviceRoles
	}
	// No Host: Ensure starts at member 0 of desired's Topology.
	rootUser := resource.CredentialsOf(root)
	previous, err := r.previousRootPassword(ctx, st, rootUser.Username)
	if err != nil {
		return st.fail(shopv1.ConditionReplicaSetInitialized, err)
	}
	target := mongors.Target{
		Username:         rootUser.Username,
		Password:         rootUser.Password,
		PreviousPassword: previous,
		DirectConnection: true,
		Timeout:          replicaSetCmdTimeout,
		ReconfigTimeout:  mongors.DefaultReconfigTimeout,
	}

	// A refusal that waiting does not fix is shown, not retried, until its inputs change.
	inputs := rejectionInputs(shop, digest, rootUser)
	if msg, ok := r.rejections.holds(shop, inputs, time.Now()); ok {
		st.replicaSet.reason, st.replicaSet.message = shopv1.ReasonRejected, msg
		st.requeue(replicaSetRejectedRecheck)
		return nil
	}

	callCtx, cancel := context.WithTimeout(ctx, replicaSetCallTimeout)
	defer cancel()
	res, err := r.ReplicaSet.Ensure(callCtx, target, desired)
	observeReplicaSet(st, res)
	if res.Phase == mongors.PhaseRejected && err != nil {
		msg := safeMessage(err)
		st.replicaSet.message = msg
		r.rejections.remember(shop, inputs, msg, time.Now())
		r.Recorder.Eventf(shop, nil, "Warning", "ReplicaSetRejected", "Reconcile", "%s", msg)
		st.requeue(replicaSetRejectedRecheck)
		return nil
	}
	r.rejections.forget(shop)
	if err != nil {
		st.replicaSet.reason = shopv1.ReasonUnreachable
		return st.fail(shopv1.ConditionReplicaSetInitialized, explainUnreachable(err))
	}
	if res.RootPasswordChanged {
		r.Recorder.Eventf(shop, nil, "Normal", "RootPasswordRotated", "Reconcile",
			"changed the MongoDB root password to the one in Secret %s", st.shop.MongoDBRootSecretName())
	}
	if res.RootPasswordChanged || res.Ready && previous != rootUser.Password {
		// MongoDB accepts these credentials: they are the ones to log in with next time.
		if err := r.recordRootCredentials(ctx, st, rootUser); err != nil {
			return st.fail(shopv1.ConditionReplicaSetInitialized, err)
		}
	}
	if res.Initiated {
		r.Recorder.Eventf(shop, nil, "Normal", "ReplicaSetInitiated", "Initiate",
			"initiated replica set %s with %d members", desired.ReplicaSet, desired.Members)
	}
	if res.Reconfigs > 0 {
		r.Recorder.Eventf(shop, nil, "Normal", "ReplicaSetReconfigured", "Reconfigure",
			"reconfigured replica set %s (%d step(s), config version %d)", desired.ReplicaSet, res.Reconfigs, res.ConfigVersion)
	}
	if !res.Ready {
		st.requeue(memo.backoff(res.Phase, time.Now()))
		return nil
	}
	memo.waiting = waitingPhase{}
	if desired.Users != nil {
		memo.usersDigest = digest
	}
	// Member states change without any Kubernetes event; look again now and then.
	st.requeue(replicaSetResync)
	return nil
}

// observeReplicaSet turns an Ensure result into the status observation.
func observeReplicaSet(st *reconcileState, res mongors.Result) {
	obs := &st.replicaSet
	switch res.Phase {
	case mongors.PhaseReady:
		obs.reason = shopv1.ReasonInitialized
	case mongors.PhaseWaitingForPrimary:
		obs.reason = shopv1.ReasonInitiating
	case mongors.PhaseReconfiguring:
		obs.reason = shopv1.ReasonReconfiguring
	case mongors.PhaseWaitingForPods:
		obs.reason = shopv1.ReasonWaitingForPods
	case mongors.PhaseUnreachable:
		obs.reason = shopv1.ReasonUnreachable
	case mongors.PhaseRejected:
		obs.reason = shopv1.ReasonRejected
	}
	obs.message = res.Message
	if res.Ready && res.Message == "" {
		obs.message = fmt.Sprintf("%d member(s), primary %s", len(res.Status.Members), res.Status.Primary)
		if res.RootPasswordChanged {
			obs.message += "; root password changed to the Secret's"
		}
	}
	if !res.Status.Initialized {
		return
	}
	obs.initialized = true
	obs.primary = res.Status.Primary
	obs.members = make([]shopv1.MongoDBMemberStatus, 0, len(res.Status.Members))
	for _, m := range res.Status.Members {
		obs.members = append(obs.members, shopv1.MongoDBMemberStatus{Name: m.Name, State: m.State})
	}
}

// adminDatabase holds MongoDB's users and the operator's custom roles.
const adminDatabase = "admin"

// accountDeletionsReader is the backend's one privilege outside its database: reading
// auth's record of deleted accounts (contract.CollAccountDeletions), to take their listings
// off sale and refuse their tokens. No built-in role grants one collection of another
// database, so it is a custom role, defined in admin (a role in ecom-auth could be dropped
// with that database).
const accountDeletionsReader = "littleecom-account-deletions-reader"

// serviceRoles are the custom roles serviceUsers grants; they are ensured before the users.
var serviceRoles = []mongors.CustomRole{{DB: adminDatabase, Name: accountDeletionsReader, Privileges: []mongors.Privilege{{
	Resource: mongors.Resource{DB: contract.DatabaseAuth, Collection: contract.CollAccountDeletions},
	Actions:  []string{"find"},
}}}}

// serviceUsers are the least-privilege users of the services: readWrite on their own
// database, and for the backend find on auth's deletions (serviceRoles). digest identifies
// the set of credentials and grants without revealing them.
func (r *LittleEcomReconciler) serviceUsers(ctx context.Context, st *reconcileState) ([]mongors.User, string, error) {
	h := sha256.New()
	// A hash.Hash's Write never returns an error.
	_, _ = fmt.Fprintf(h, "%v\n", serviceRoles)
	users := make([]mongors.User, 0, len(resource.ServiceComponents))
	for _, component := range resource.ServiceComponents {
		db := resource.DatabaseOf(component)
		data, err := r.secret(ctx, st, st.shop.Names.MongoDBUserSecret(component))
		if err != nil {
			return nil, "", err
		}
		c := resource.CredentialsOf(data)
		roles := []mongors.Role{{Role: "readWrite", DB: db}}
		if component == resource.ComponentBackend {
			roles = append(roles, mongors.Role{Role: accountDeletionsReader, DB: adminDatabase})
		}
		u := mongors.User{DB: adminDatabase, Name: c.Username, Password: c.Password, Roles: roles}
		users = append(users, u)
		_, _ = fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\n", u.DB, u.Name, u.Password, u.Roles)
	}
	return users, hex.EncodeToString(h.Sum(nil)), nil
}

// explainUnreachable adds what a person needs to know when pod names do not resolve.
func explainUnreachable(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || strings.Contains(err.Error(), "no such host") {
		return fmt.Errorf("%w (the members' pod DNS names resolve only inside the cluster: "+
			"run the operator in the cluster, e.g. make deploy, to manage the replica set)", err)
	}
	return err
}

func replicaSetCondition(obs replicaSetObservation, failure error) conditionStatus {
	if failure != nil {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonUnreachable, safeMessage(failure)}
	}
	reason := obs.reason
	if reason == "" {
		reason = shopv1.ReasonWaitingForPods
	}
	if obs.initialized && reason == shopv1.ReasonInitialized {
		return conditionStatus{metav1.ConditionTrue, reason, obs.message}
	}
	return conditionStatus{metav1.ConditionFalse, reason, obs.message}
}

func setMongoDBStatus(shop *shopv1.LittleEcom, obs replicaSetObservation, failed bool) {
	if shop.Spec.MongoDB.External != nil {
		// No replica set of ours: nothing about members to report, nothing stale to keep.
		shop.Status.MongoDB = shopv1.MongoDBStatus{State: shopv1.ReasonExternalDatabase}
		return
	}
	state := obs.reason
	if failed {
		state = shopv1.ReasonUnreachable
	}
	shop.Status.MongoDB = shopv1.MongoDBStatus{
		ReplicaSet:  resource.MongoDBReplicaSetName(shop.Spec.MongoDB),
		State:       state,
		Initialized: obs.initialized,
		Members:     obs.members,
		Primary:     obs.primary,
	}
}
