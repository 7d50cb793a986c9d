package controllers

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
	"littleecom.io/littleecom/internal/resource"
)

// envtest has no pods, so no mongod either: the suite's replica-set manager is the real
// mongors code and Go driver, dialing a wire-protocol double (mongorstest) per shop instead
// of pod DNS names. What the double cannot prove (elections, replication, keyfile auth
// between members) is listed in the mongorstest package; these specs prove the
// reconciler's sequencing: when it initiates, reconfigures and resizes the StatefulSet.
type doubleClusters struct {
	mu       sync.Mutex
	clusters map[string]*mongorstest.Cluster // namespace/name
}

var memberHost = regexp.MustCompile(`^([a-z0-9-]+)-mongodb-\d+\.[a-z0-9-]+-mongodb-headless\.([a-z0-9-]+)\.svc\.cluster\.local:27017$`)

// cluster returns the double of shop ns/name, starting it on first use with the shop's
// real root credentials as the mongod entrypoint would have created them.
func (d *doubleClusters) cluster(ctx context.Context, ns, name string) (*mongorstest.Cluster, error) {
	return d.clusterWith(ctx, ns, name, nil)
}

// clusterWith is cluster with the double's options changed by modify before it starts
// (when it starts here).
func (d *doubleClusters) clusterWith(ctx context.Context, ns, name string, modify func(*mongorstest.Options)) (*mongorstest.Cluster, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clusters[ns+"/"+name]; ok {
		return c, nil
	}
	le := &shopv1.LittleEcom{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, le); err != nil {
		return nil, err
	}
	rootName := name + "-mongodb-root"
	if ref := le.Spec.MongoDB.CredentialsSecretRef; ref != nil {
		rootName = ref.Name
	}
	root := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: rootName}, root); err != nil {
		return nil, err
	}
	topo := mongors.Topology{Name: name, Namespace: ns, ReplicaSet: resource.MongoDBReplicaSetName(le.Spec.MongoDB)}
	hosts := make([]string, mongors.MaxVotingMembers)
	for i := range hosts {
		hosts[i] = topo.Host(i)
	}
	// The specs are about what the reconciler does, not about mongod's pace: elections and
	// catch-up happen at once here (mongors's own tests cover mongod's timings).
	timings := mongorstest.InstantTimings()
	opts := mongorstest.Options{SetName: topo.ReplicaSet, Hosts: hosts, Timings: &timings,
		Username: string(root.Data["username"]), Password: string(root.Data["password"])}
	if modify != nil {
		modify(&opts)
	}
	c, err := mongorstest.New(opts)
	if err != nil {
		return nil, err
	}
	if d.clusters == nil {
		d.clusters = map[string]*mongorstest.Cluster{}
	}
	d.clusters[ns+"/"+name] = c
	return c, nil
}

// Dial implements mongors.Dialer, routing each member name to its shop's double.
func (d *doubleClusters) Dial(ctx context.Context, target mongors.Target) (mongors.Client, error) {
	m := memberHost.FindStringSubmatch(target.Host)
	if m == nil {
		return nil, fmt.Errorf("dial %s: no such host", target.Host)
	}
	c, err := d.cluster(ctx, m[2], m[1])
	if err != nil {
		return nil, err
	}
	return mongors.DriverDialer{NetDialer: c}.Dial(ctx, target)
}

func (d *doubleClusters) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.clusters {
		c.Close()
	}
}

// configMembers counts the members of the double's current replica-set config.
func configMembers(c *mongorstest.Cluster) int {
	raw := c.Config()
	if raw == nil {
		return 0
	}
	members, err := raw.LookupErr("members")
	if err != nil {
		return 0
	}
	vals, _ := members.Array().Values()
	return len(vals)
}

type corev1Secret = corev1.Secret

func topoHost(ns, name string, i int) string {
	return mongors.Topology{Name: name, Namespace: ns}.Host(i)
}

// createShopWithDouble creates shop ns/name and starts its replica-set double once the
// operator has written the StatefulSet and the root Secret the double's credentials come from.
func createShopWithDouble(ns, name string) *mongorstest.Cluster {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
	eventually(ns, name+"-mongodb", &appsv1.StatefulSet{})
	eventually(ns, name+"-mongodb-root", &corev1Secret{})
	rs, err := doubles.cluster(ctx, ns, name)
	Expect(err).NotTo(HaveOccurred())
	return rs
}
