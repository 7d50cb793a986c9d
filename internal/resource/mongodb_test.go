package resource

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func buildMongoSts(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) (*Shop, *appsv1.StatefulSet) {
	t.Helper()
	s := newTestShop(t, mutate)
	return s, buildOnce(t, s.MongoDBStatefulSet()).(*appsv1.StatefulSet)
}

func TestMongoDBStatefulSet_Content(t *testing.T) {
	_, sts := buildMongoSts(t, nil)
	assertOwned(t, sts, "shop-mongodb", ComponentMongoDB)
	if *sts.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want the default 3", *sts.Spec.Replicas)
	}
	if sts.Spec.ServiceName != "shop-mongodb-headless" {
		t.Errorf("serviceName = %q", sts.Spec.ServiceName)
	}
	if got := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String(); got != "10Gi" {
		t.Errorf("volume size = %s, want 10Gi", got)
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("retention = %+v, want Retain by default", p)
	}
	pod := sts.Spec.Template.Spec
	mongod := pod.Containers[0]
	args := strings.Join(mongod.Args, " ")
	for _, want := range []string{"--replSet rs0", "--bind_ip_all", "--auth", "--keyFile /var/lib/mongodb-keyfile/keyfile"} {
		if !strings.Contains(args, want) {
			t.Errorf("mongod args %q lack %q", args, want)
		}
	}
	// mongod refuses a keyfile it does not own or that others can read: the init container
	// must copy it with mode 0400 as the mongod user.
	init := pod.InitContainers[0]
	if !strings.Contains(strings.Join(init.Command, " "), "install -m 0400") {
		t.Errorf("keyfile init container = %v, want a 0400 copy", init.Command)
	}
	if *pod.SecurityContext.RunAsUser != mongoUID || *pod.SecurityContext.FSGroup != mongoUID {
		t.Errorf("pod security = %+v, want uid and fsGroup %d", pod.SecurityContext, mongoUID)
	}
	if !*mongod.SecurityContext.ReadOnlyRootFilesystem || *mongod.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("container security = %+v", mongod.SecurityContext)
	}
	// Not mongosh: it costs a process per period and answers from the first-start mongod on
	// 127.0.0.1; the kubelet's connect goes to the pod IP.
	if p := mongod.ReadinessProbe; p.Exec != nil || p.TCPSocket == nil || p.TCPSocket.Port.StrVal != "mongodb" {
		t.Errorf("readiness = %+v, want a TCP connect to the mongodb port", p)
	}
}

func TestMongoDBStatefulSet_FollowsSpec(t *testing.T) {
	class := "fast"
	_, sts := buildMongoSts(t, func(s *shopv1.LittleEcomSpec) {
		s.MongoDB.Replicas = ptr.To[int32](5)
		s.MongoDB.Image = "mongo:8.0"
		s.MongoDB.ReplicaSetName = "shop"
		s.MongoDB.Storage = shopv1.StorageSpec{Size: "1Gi", StorageClassName: &class, RetentionPolicy: shopv1.RetentionDelete}
		s.MongoDB.CredentialsSecretRef = &shopv1.SecretReference{Name: "mine"}
	})
	if *sts.Spec.Replicas != 5 || sts.Spec.Template.Spec.Containers[0].Image != "mongo:8.0" {
		t.Errorf("replicas/image not taken from the spec")
	}
	if !slices.Contains(sts.Spec.Template.Spec.Containers[0].Args, "shop") {
		t.Errorf("replica-set name not used: %v", sts.Spec.Template.Spec.Containers[0].Args)
	}
	claim := sts.Spec.VolumeClaimTemplates[0].Spec
	if claim.Resources.Requests.Storage().String() != "1Gi" || *claim.StorageClassName != "fast" {
		t.Errorf("claim = %+v", claim)
	}
	if sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		t.Errorf("retention Delete not applied")
	}
	for _, e := range sts.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom.SecretKeyRef.Name != "mine" {
			t.Errorf("env %s reads %s, want the user's Secret", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
}

func TestMongoDBStatefulSet_ReplicasOverrideDuringReconfig(t *testing.T) {
	s := newTestShop(t, func(s *shopv1.LittleEcomSpec) { s.MongoDB.Replicas = ptr.To[int32](1) })
	s.MongoDBStatefulSetReplicas = ptr.To[int32](3)
	sts := buildOnce(t, s.MongoDBStatefulSet()).(*appsv1.StatefulSet)
	if *sts.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want the override 3 while members are removed", *sts.Spec.Replicas)
	}
}

func TestMongoDBStatefulSet_UpdateIsIdempotent(t *testing.T) {
	s, sts := buildMongoSts(t, nil)
	s.ConfigHashes[ComponentMongoDB] = "abc"
	if err := s.MongoDBStatefulSet().Update(sts); err != nil {
		t.Fatal(err)
	}
	once := sts.DeepCopy()
	if err := s.MongoDBStatefulSet().Update(sts); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(once, sts) {
		t.Error("a second Update changed the StatefulSet")
	}
}

func TestMongoDBStatefulSet_KeepsOtherTemplateAnnotations(t *testing.T) {
	s, sts := buildMongoSts(t, nil)
	sts.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "now"}
	s.ConfigHashes[ComponentMongoDB] = "abc"
	if err := s.MongoDBStatefulSet().Update(sts); err != nil {
		t.Fatal(err)
	}
	if sts.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] != "now" ||
		sts.Spec.Template.Annotations[ConfigHashAnnotation] != "abc" {
		t.Errorf("annotations = %v", sts.Spec.Template.Annotations)
	}
}

func TestMongoDBHeadlessService(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.MongoDBHeadlessService()
	svc := buildOnce(t, b).(*corev1.Service)
	assertOwned(t, svc, "shop-mongodb-headless", ComponentMongoDB)
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("spec = %+v, want headless publishing not-ready addresses", svc.Spec)
	}
	if svc.Spec.Ports[0].Port != MongoDBPort {
		t.Errorf("ports = %+v", svc.Spec.Ports)
	}
	once := svc.DeepCopy()
	if err := b.Update(svc); err != nil || !equality.Semantic.DeepEqual(once, svc) {
		t.Errorf("second Update changed the Service (err %v)", err)
	}
}

func TestMongoDBMemberHost(t *testing.T) {
	n := Names{Instance: "shop", Namespace: "prod"}
	if got := n.MongoDBMemberHost(2); got != "shop-mongodb-2.shop-mongodb-headless.prod.svc.cluster.local:27017" {
		t.Errorf("member host = %s", got)
	}
}
