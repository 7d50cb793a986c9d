package controllers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/resource"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;delete

// The MongoDB StatefulSet updates OnDelete: a changed pod template (a new default image
// after an operator upgrade, a new image in the spec, a rotated keyfile) reaches the members
// only when the operator deletes their pods, in the order the replica set needs:
//
//  1. only while every member is up and PRIMARY or SECONDARY, and every pod ready: one
//     member restarts at a time, so a majority always stays;
//  2. secondaries first, the highest ordinal first;
//  3. the primary last, after replSetStepDown handed its role to an up-to-date secondary
//     (the next reconcile finds it a secondary and restarts it);
//  4. once every member runs the new template, the feature compatibility version is raised
//     to the release all members run (after a major upgrade), on the primary.
//
// Each step is one action per reconcile; the StatefulSet's status changes (a pod gone, a
// pod ready again) and a short requeue bring the next.

// rolloutPoll is how soon a rollout in progress is looked at again.
const rolloutPoll = 5 * time.Second

// stepDownPeriod is how long a stepped-down primary may not stand for election again: long
// enough for its restart (it comes back as a secondary either way).
const stepDownPeriod = 60 * time.Second

// Events of the MongoDB rollout.
const (
	eventMemberRestarted = "MongoDBMemberRestarted"
	eventPrimaryStepDown = "MongoDBPrimarySteppedDown"
	eventFCVRaised       = "MongoDBFeatureCompatibilityVersionRaised"
)

// rolloutObservation is what the rollout phase saw, for status.images.
type rolloutObservation struct {
	// outdated counts pods on an earlier template; updating is outdated > 0.
	outdated int
	message  string
}

// ReplicaSetRoller is what the rollout needs of the replica set besides Ensure: a step-down
// of the primary and the members' releases and FCV. DriverReplicaSetManager implements it;
// a ReplicaSetManager without it restarts members in order but never steps down or raises
// the FCV (and says so).
type ReplicaSetRoller interface {
	StepDown(ctx context.Context, target mongors.Target, period time.Duration) error
	// Releases returns the buildInfo version of each member at hosts and the FCV that the
	// primary reports.
	Releases(ctx context.Context, target mongors.Target, hosts []string) (versions []string, fcv string, err error)
	SetFeatureCompatibilityVersion(ctx context.Context, target mongors.Target, version string) error
}

var _ ReplicaSetRoller = DriverReplicaSetManager{}

// StepDown implements ReplicaSetRoller.
func (m DriverReplicaSetManager) StepDown(ctx context.Context, target mongors.Target, period time.Duration) error {
	c, err := m.Dialer.Dial(ctx, target)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	return c.StepDown(ctx, period)
}

// Releases implements ReplicaSetRoller.
func (m DriverReplicaSetManager) Releases(ctx context.Context, target mongors.Target, hosts []string) ([]string, string, error) {
	versions := make([]string, 0, len(hosts))
	var fcv string
	for _, h := range hosts {
		err := m.withVersionClient(ctx, target, h, func(vc mongors.VersionClient) error {
			v, err := vc.BuildVersion(ctx)
			if err != nil {
				return err
			}
			versions = append(versions, v)
			if h == target.Host {
				fcv, err = vc.FeatureCompatibilityVersion(ctx)
			}
			return err
		})
		if err != nil {
			return nil, "", err
		}
	}
	return versions, fcv, nil
}

// SetFeatureCompatibilityVersion implements ReplicaSetRoller.
func (m DriverReplicaSetManager) SetFeatureCompatibilityVersion(ctx context.Context, target mongors.Target, version string) error {
	return m.withVersionClient(ctx, target, target.Host, func(vc mongors.VersionClient) error {
		return vc.SetFeatureCompatibilityVersion(ctx, version)
	})
}

func (m DriverReplicaSetManager) withVersionClient(ctx context.Context, target mongors.Target, host string,
	fn func(mongors.VersionClient) error) error {
	target.Host = host
	c, err := m.Dialer.Dial(ctx, target)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	vc, ok := c.(mongors.VersionClient)
	if !ok {
		return fmt.Errorf("the replica-set client for %s cannot read versions", host)
	}
	return fn(vc)
}

// reconcileMongoDBRollout restarts members whose pods run an earlier template, one at a
// time, the primary last, and raises the FCV when the members all run a newer release.
func (r *LittleEcomReconciler) reconcileMongoDBRollout(ctx context.Context, st *reconcileState) error {
	s := st.shop
	sts := st.statefulSets[resource.ComponentMongoDB]
	if s.MongoDBExternal() != nil || sts == nil || !st.replicaSet.initialized ||
		sts.Status.ObservedGeneration < sts.Generation || sts.Status.UpdateRevision == "" {
		// Nothing to roll yet: no pods of ours, or the StatefulSet controller has not
		// computed the revision of the current template.
		return nil
	}
	pods, err := r.mongoDBPods(ctx, s)
	if err != nil {
		return st.fail(shopv1.ConditionMongoDBReady, err)
	}
	var outdated []*corev1.Pod
	for _, p := range pods {
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] != sts.Status.UpdateRevision {
			outdated = append(outdated, p)
		}
	}
	obs := &st.mongoDBRollout
	obs.outdated = len(outdated)
	if len(outdated) == 0 {
		if len(pods) == int(ptr.Deref(sts.Spec.Replicas, 0)) {
			return r.ensureFCV(ctx, st, sts.Status.UpdateRevision)
		}
		// A member's pod is still being recreated (the last one restarted, or a scale-up):
		// the FCV waits for every member, and pods are not watched.
		st.requeue(rolloutPoll)
		return nil
	}
	total := len(pods)
	if wait := r.rolloutBlocked(st, sts, pods); wait != "" {
		obs.message = fmt.Sprintf("%d of %d members on an earlier template; waiting: %s", len(outdated), total, wait)
		st.requeue(rolloutPoll)
		return nil
	}
	primary := podOfMember(st.replicaSet.primary)
	// Highest ordinal first among the secondaries, the order a StatefulSet would use.
	slices.SortFunc(outdated, func(a, b *corev1.Pod) int { return ordinal(b.Name) - ordinal(a.Name) })
	for _, p := range outdated {
		if p.Name == primary {
			continue
		}
		if err := r.Delete(ctx, p, client.Preconditions{UID: &p.UID}); err != nil && !apierrors.IsNotFound(err) {
			return st.fail(shopv1.ConditionMongoDBReady, fmt.Errorf("restarting MongoDB member %s: %w", p.Name, err))
		}
		r.Recorder.Eventf(s.Instance, nil, corev1.EventTypeNormal, eventMemberRestarted, "Restart",
			"restarted secondary %s on the new template (%d of %d members left to update)", p.Name, len(outdated)-1, total)
		obs.message = fmt.Sprintf("restarting secondary %s (%d of %d members on an earlier template)", p.Name, len(outdated), total)
		st.requeue(rolloutPoll)
		return nil
	}
	// Only the primary is left: hand its role over first.
	return r.stepDownPrimary(ctx, st, primary, len(outdated), total)
}

// rolloutBlocked says why no member may restart now, "" when one may: every pod there,
// ready and not going away; every member of the replica set up and PRIMARY or SECONDARY,
// as this reconcile's replica-set phase saw it.
func (r *LittleEcomReconciler) rolloutBlocked(st *reconcileState, sts *appsv1.StatefulSet, pods []*corev1.Pod) string {
	want := int(ptr.Deref(sts.Spec.Replicas, 0))
	if len(pods) != want || int(sts.Status.ReadyReplicas) != want {
		return fmt.Sprintf("%d/%d members' pods ready", sts.Status.ReadyReplicas, want)
	}
	for _, p := range pods {
		if !p.DeletionTimestamp.IsZero() || !podReady(p) {
			return "pod " + p.Name + " is restarting"
		}
	}
	rs := st.replicaSet
	if st.failures[shopv1.ConditionReplicaSetInitialized] != nil || rs.reason != shopv1.ReasonInitialized {
		return "the replica set is not ready (" + rs.reason + ")"
	}
	if len(rs.members) != want {
		return fmt.Sprintf("the replica set has %d members, the StatefulSet %d", len(rs.members), want)
	}
	if rs.primary == "" {
		return "the replica set has no primary"
	}
	for _, m := range rs.members {
		if m.State != mongors.StatePrimary && m.State != mongors.StateSecondary {
			return "member " + m.Name + " is " + m.State
		}
	}
	return ""
}

// stepDownPrimary asks the primary, the last member on the earlier template, to step down.
func (r *LittleEcomReconciler) stepDownPrimary(ctx context.Context, st *reconcileState, pod string, outdated, total int) error {
	s := st.shop
	obs := &st.mongoDBRollout
	roller, ok := r.ReplicaSet.(ReplicaSetRoller)
	if !ok {
		obs.message = "the primary " + pod + " is the last member on an earlier template, and this operator cannot step it down"
		return nil
	}
	target, err := r.rootTarget(ctx, st, st.replicaSet.primary)
	if err != nil {
		return st.fail(shopv1.ConditionMongoDBReady, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, replicaSetCallTimeout)
	defer cancel()
	if err := roller.StepDown(callCtx, target, stepDownPeriod); err != nil {
		// No electable secondary caught up (ExceededTimeLimit): try again later.
		obs.message = fmt.Sprintf("the primary %s could not step down yet: %s", pod, safeMessage(err))
		st.requeue(rolloutPoll)
		return nil
	}
	r.Recorder.Eventf(s.Instance, nil, corev1.EventTypeNormal, eventPrimaryStepDown, "StepDown",
		"the primary %s stepped down so that it can restart on the new template", pod)
	obs.message = fmt.Sprintf(
		"the primary %s stepped down; it restarts once a new primary is elected (%d of %d members on an earlier template)",
		pod, outdated, total)
	st.requeue(rolloutPoll)
	return nil
}

// ensureFCV raises the feature compatibility version once after every rollout (revision):
// when all members run one release newer than the FCV, it is set to that release.
func (r *LittleEcomReconciler) ensureFCV(ctx context.Context, st *reconcileState, revision string) error {
	memo := &r.memory.of(st.shop.Instance).rollout
	if memo.fcvCheckedRevision == revision {
		st.mongoDBRollout.message = memo.fcvMessage
		return nil
	}
	roller, ok := r.ReplicaSet.(ReplicaSetRoller)
	if !ok {
		return nil
	}
	rs := st.replicaSet
	if rs.primary == "" || st.failures[shopv1.ConditionReplicaSetInitialized] != nil {
		// Typically the election after the primary's step-down: nothing else wakes this
		// shop up once every pod is back, so look again soon.
		st.requeue(rolloutPoll)
		return nil
	}
	target, err := r.rootTarget(ctx, st, rs.primary)
	if err != nil {
		return st.fail(shopv1.ConditionMongoDBReady, err)
	}
	hosts := make([]string, 0, len(rs.members))
	for _, m := range rs.members {
		hosts = append(hosts, m.Name)
	}
	callCtx, cancel := context.WithTimeout(ctx, replicaSetCallTimeout)
	defer cancel()
	versions, fcv, err := roller.Releases(callCtx, target, hosts)
	if err != nil {
		return st.fail(shopv1.ConditionMongoDBReady, fmt.Errorf("reading the members' releases: %w", err))
	}
	step, err := mongors.FCVTarget(fcv, versions)
	if err != nil {
		return st.fail(shopv1.ConditionMongoDBReady, err)
	}
	switch {
	case step.Raise:
		if err := roller.SetFeatureCompatibilityVersion(callCtx, target, step.Running.String()); err != nil {
			return st.fail(shopv1.ConditionMongoDBReady,
				fmt.Errorf("setting the feature compatibility version to %s: %w", step.Running, err))
		}
		r.Recorder.Eventf(st.shop.Instance, nil, corev1.EventTypeNormal, eventFCVRaised, "SetFeatureCompatibilityVersion",
			"every member runs MongoDB %s: raised the feature compatibility version from %s", step.Running, step.Current)
		memo.fcvMessage = fmt.Sprintf("every member runs MongoDB %s; feature compatibility version raised from %s", step.Running, step.Current)
	case step.Reason != "":
		// Members on different releases after every pod runs the template: not this
		// rollout's doing (an image changed under it); look again at the next resync.
		st.mongoDBRollout.message = "feature compatibility version " + step.Current.String() + " kept: " + step.Reason
		return nil
	default:
		memo.fcvMessage = fmt.Sprintf("every member runs MongoDB %s, the feature compatibility version", step.Running)
	}
	memo.fcvCheckedRevision = revision
	st.mongoDBRollout.message = memo.fcvMessage
	return nil
}

// rootTarget is the root user's connection to host.
func (r *LittleEcomReconciler) rootTarget(ctx context.Context, st *reconcileState, host string) (mongors.Target, error) {
	root, err := r.secret(ctx, st, st.shop.MongoDBRootSecretName())
	if err != nil {
		return mongors.Target{}, err
	}
	c := resource.CredentialsOf(root)
	return mongors.Target{Host: host, Username: c.Username, Password: c.Password, DirectConnection: true,
		Timeout: replicaSetCmdTimeout}, nil
}

// mongoDBPods lists the members' pods by the StatefulSet's selector labels, through the API
// reader: an informer on pods would hold every pod of the cluster in memory.
func (r *LittleEcomReconciler) mongoDBPods(ctx context.Context, s *resource.Shop) ([]*corev1.Pod, error) {
	var list corev1.PodList
	if err := r.APIReader.List(ctx, &list, client.InNamespace(s.Instance.Namespace),
		client.MatchingLabels(resource.SelectorLabels(s.Instance.Name, resource.ComponentMongoDB))); err != nil {
		return nil, fmt.Errorf("listing MongoDB pods: %w", err)
	}
	prefix := s.Names.MongoDB() + "-"
	pods := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		if p := &list.Items[i]; strings.HasPrefix(p.Name, prefix) && ordinal(p.Name) >= 0 {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// podOfMember is the pod name of a member's host:port (<pod>.<headless service>...).
func podOfMember(host string) string {
	name, _, _ := strings.Cut(host, ".")
	return name
}

// ordinal is the StatefulSet ordinal at the end of a pod's name, -1 when there is none.
func ordinal(pod string) int {
	i := strings.LastIndexByte(pod, '-')
	n, err := strconv.Atoi(pod[i+1:])
	if i < 0 || err != nil {
		return -1
	}
	return n
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// rolloutMemo keeps, in the shop's memo, the template revision whose FCV was last
// checked, so that the members are asked for their release once per rollout and not on
// every resync.
type rolloutMemo struct {
	fcvCheckedRevision string
	fcvMessage         string
}
