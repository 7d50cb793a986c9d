package controllers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// unstructuredShop builds a LittleEcom from a YAML spec exactly as a user would write it,
// so that the API server (not Go's zero values) sees what is and is not set.
func unstructuredShop(ns, name, specYAML string) *unstructured.Unstructured {
	spec := map[string]any{}
	Expect(yaml.Unmarshal([]byte(specYAML), &spec)).To(Succeed())
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(shopv1.GroupVersion.String())
	u.SetKind("LittleEcom")
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// createRequeuingShop creates a shop with an external database, which the operator checks
// again every second, and deletes it when the spec ends.
func createRequeuingShop(u *unstructured.Unstructured) {
	ExpectWithOffset(1, k8sClient.Create(ctx, u)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, u))).To(Succeed()) })
}

var _ = Describe("LittleEcom validation", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("accepts an empty spec and fills in every default", func() {
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "defaults", "{}"))).To(Succeed())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "defaults"), le)).To(Succeed())
		s := le.Spec
		// The in-cluster MongoDB's defaults are the operator's (resource.MongoDBReplicas and
		// the builders), not the CRD's: the rule against combining them with external must
		// see only what the user wrote.
		Expect(s.MongoDB).To(Equal(shopv1.MongoDBSpec{}))
		Expect(*s.RabbitMQ.Replicas).To(BeEquivalentTo(1))
		Expect(s.RabbitMQ.Storage.Size).To(Equal("2Gi"))
		Expect(*s.Backend.Replicas).To(BeEquivalentTo(2))
		Expect(*s.Auth.Replicas).To(BeEquivalentTo(2))
		Expect(s.Auth.EmailVerification).To(BeFalse())
		Expect(s.Auth.AccessTokenTTL.Duration.String()).To(Equal("15m0s"))
		Expect(s.Backend.ItemCache.TTL.Duration.String()).To(Equal("1s"))
		Expect(*s.Backend.ItemCache.Size).To(BeEquivalentTo(10000))
		Expect(*s.Notifier.Replicas).To(BeEquivalentTo(1))
		Expect(s.Notifier.SMTP.Port).To(BeEquivalentTo(587))
		Expect(s.Notifier.SMTP.StartTLS).To(BeEmpty(), "unset means Always with credentials, IfAvailable without")
		Expect(*s.Ingress.Enabled).To(BeTrue())
		Expect(s.Ingress.ClassName).To(Equal("nginx"))
		Expect(s.Ingress.CORS.AllowOrigins).To(ConsistOf(shopv1.Origin("*")))
		Expect(s.Ingress.CORS.AllowCredentials).To(BeFalse())
		Expect(s.Logging.Enabled).To(BeFalse())
		Expect(*s.Logging.Elasticsearch.Replicas).To(BeEquivalentTo(1))
	})

	DescribeTable("refuses an invalid spec with a message a person understands",
		func(specYAML, message string) {
			err := k8sClient.Create(ctx, unstructuredShop(ns, "invalid", specYAML))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("even MongoDB replicas", "mongodb: {replicas: 2}", "mongodb replicas must be odd"),
		Entry("too many MongoDB replicas", "mongodb: {replicas: 9}", "less than or equal to 7"),
		Entry("negative service replicas", "backend: {replicas: -1}", "greater than or equal to 0"),
		Entry("a storage size that is no quantity", "mongodb: {storage: {size: ten-gigs}}", "size must be a positive quantity"),
		Entry("a zero storage size", "rabbitmq: {storage: {size: '0'}}", "size must be a positive quantity"),
		Entry("an empty image", "auth: {image: ''}", "at least 1 chars long"),
		Entry("an image with a space", "notifier: {image: 'littleecom/notifier 1'}", "image must be a reference"),
		Entry("an origin without scheme", "ingress: {cors: {allowOrigins: [shop.example.com]}}", "origin must be '*' or a URL"),
		Entry("an origin with a path", "ingress: {cors: {allowOrigins: ['https://shop.example.com/app']}}", "origin must be '*' or a URL"),
		Entry("credentials with the wildcard origin", "ingress: {cors: {allowCredentials: true}}", "allowCredentials cannot be true while allowOrigins contains '*'"),
		Entry("the wildcard mixed with origins", "ingress: {cors: {allowOrigins: ['*', 'https://a.example.com']}}", "'*' cannot be combined"),
		Entry("an unknown CORS method", "ingress: {cors: {allowMethods: [FETCH]}}", "Unsupported value: \"FETCH\""),
		Entry("an access token living a week", "auth: {accessTokenTTL: 168h}", "accessTokenTTL must be between 1m and 24h"),
		Entry("an item cache keeping items an hour", "backend: {itemCache: {ttl: 1h}}", "itemCache.ttl must be between 0s and 1m"),
		Entry("a negative item cache", "backend: {itemCache: {size: -1}}", "greater than or equal to 0"),
		Entry("access outliving refresh", "auth: {accessTokenTTL: 2h, refreshTokenTTL: 1h}", "accessTokenTTL must be shorter than refreshTokenTTL"),
		Entry("a sender without @", "notifier: {smtp: {from: nobody}}", "from must be an e-mail address"),
		Entry("two Elasticsearch nodes", "logging: {elasticsearch: {replicas: 2}}", "elasticsearch replicas must be 1"),
		Entry("a proxy that is no CIDR", "auth: {trustedProxies: [10.0.0.1]}", "trustedProxies must be CIDRs"),
		Entry("a bad replica-set name", "mongodb: {replicaSetName: 'rs 0'}", "replicaSetName"),
		Entry("a gateway without parents", "gateway: {parentRefs: []}", "spec.gateway.parentRefs"),
		Entry("a gateway hostname that is no DNS name", "gateway: {parentRefs: [{name: gw}], hostnames: [Shop_Example]}", "spec.gateway.hostnames[0]"),
		Entry("a gateway namespace that is no DNS label", "gateway: {parentRefs: [{name: gw, namespace: Infra.NS}]}", "spec.gateway.parentRefs[0].namespace"),
		Entry("an external database without a Secret", "mongodb: {external: {}}", "spec.mongodb.external.secretRef: Required value"),
		Entry("an external database with replicas", "mongodb: {external: {secretRef: {name: atlas}}, replicas: 3}",
			"external cannot be combined with replicas: the operator runs no MongoDB for a shop with an external database"),
		Entry("an external database with every in-cluster field",
			"mongodb: {external: {secretRef: {name: atlas}}, replicas: 1, image: 'mongo:8.0', replicaSetName: rs1, "+
				"storage: {size: 1Gi}, resources: {limits: {memory: 1Gi}}, credentialsSecretRef: {name: root}}",
			"external cannot be combined with replicas, image, replicaSetName, storage, resources, credentialsSecretRef"),
		Entry("e-mail verification without a public URL", "auth: {emailVerification: true}",
			"auth.emailVerification needs the shop's public URL"),
		Entry("e-mail verification behind a wildcard host", "{auth: {emailVerification: true}, ingress: {host: '*.example.com'}}",
			"auth.emailVerification needs the shop's public URL"),
		Entry("e-mail verification with the Ingress off", "{auth: {emailVerification: true}, ingress: {enabled: false, host: shop.example.com}}",
			"auth.emailVerification needs the shop's public URL"),
		Entry("a public URL with a path", "auth: {publicURL: 'https://shop.example.com/app'}", "publicURL must be a URL"),
		Entry("a collector without a scheme", "tracing: {otlpEndpoint: 'otel-collector:4318'}", "otlpEndpoint must be the collector's OTLP/HTTP base URL"),
		Entry("a collector over gRPC's scheme", "tracing: {otlpEndpoint: 'grpc://otel-collector:4317'}", "otlpEndpoint must be the collector's OTLP/HTTP base URL"),
		Entry("a sampling share over 100", "tracing: {otlpEndpoint: 'http://c:4318', samplingPercent: 101}", "less than or equal to 100"),
		Entry("an external URI key that is no Secret key", "mongodb: {external: {secretRef: {name: atlas}, uriKey: 'my key'}}",
			"spec.mongodb.external.uriKey"),
	)

	It("accepts e-mail verification with a public URL or an Ingress host", func() {
		for i, spec := range []string{
			"{auth: {emailVerification: true}, ingress: {host: shop.example.com}}",
			"{auth: {emailVerification: true, publicURL: 'https://shop.example.com:8443'}, ingress: {enabled: false}}",
		} {
			createRequeuingShop(unstructuredShop(ns, fmt.Sprintf("verifying-%d", i), spec))
		}
	})

	It("accepts an external database, with or without a URI key, beside the other sections", func() {
		for i, spec := range []string{
			"mongodb: {external: {secretRef: {name: atlas}}}",
			"{mongodb: {external: {secretRef: {name: community-admin}, uriKey: connectionString.standardSrv}}, " +
				"rabbitmq: {replicas: 3}, backend: {replicas: 4}}",
		} {
			createRequeuingShop(unstructuredShop(ns, fmt.Sprintf("external-%d", i), spec))
		}
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "external-0"), le)).To(Succeed())
		Expect(le.Spec.MongoDB).To(Equal(shopv1.MongoDBSpec{
			External: &shopv1.ExternalMongoDBSpec{SecretRef: shopv1.SecretReference{Name: "atlas"}},
		}), "no in-cluster default may be written into an external shop")
	})

	It("refuses to switch between the in-cluster and an external database", func() {
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "in-cluster", "{}"))).To(Succeed())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "in-cluster"), le)).To(Succeed())
		le.Spec.MongoDB.External = &shopv1.ExternalMongoDBSpec{SecretRef: shopv1.SecretReference{Name: "atlas"}}
		err := k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("external cannot be set or removed after creation"))

		createRequeuingShop(unstructuredShop(ns, "external", "mongodb: {external: {secretRef: {name: atlas}}}"))
		Expect(k8sClient.Get(ctx, key(ns, "external"), le)).To(Succeed())
		le.Spec.MongoDB.External = nil
		err = k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("external cannot be set or removed after creation"))

		By("pointing an external shop at another Secret, which is allowed")
		Expect(k8sClient.Get(ctx, key(ns, "external"), le)).To(Succeed())
		le.Spec.MongoDB.External.SecretRef.Name = "atlas-rotated"
		Expect(k8sClient.Update(ctx, le)).To(Succeed())
	})

	It("refuses to change the defaulted size and replica-set name by writing them", func() {
		// The defaults are the operator's, not in the stored object: a shop created without
		// them runs with 10Gi and rs0, and writing other values later must be refused too.
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "implicit", "{}"))).To(Succeed())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "implicit"), le)).To(Succeed())
		le.Spec.MongoDB.Storage.Size = "20Gi"
		err := k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("storage.size cannot be changed after creation"))

		Expect(k8sClient.Get(ctx, key(ns, "implicit"), le)).To(Succeed())
		le.Spec.MongoDB.ReplicaSetName = "rs1"
		err = k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("replicaSetName cannot be changed after creation"))

		By("writing the defaults themselves, which changes nothing")
		Expect(k8sClient.Get(ctx, key(ns, "implicit"), le)).To(Succeed())
		le.Spec.MongoDB.Storage.Size = "10Gi"
		le.Spec.MongoDB.ReplicaSetName = "rs0"
		Expect(k8sClient.Update(ctx, le)).To(Succeed())
		le.Spec.MongoDB = shopv1.MongoDBSpec{}
		Expect(k8sClient.Update(ctx, le)).To(Succeed())
	})

	It("refuses to change what a StatefulSet cannot change", func() {
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "immutable", "mongodb: {storage: {size: 1Gi}}"))).To(Succeed())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "immutable"), le)).To(Succeed())

		le.Spec.MongoDB.Storage.Size = "2Gi"
		err := k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("size cannot be changed after creation"))

		Expect(k8sClient.Get(ctx, key(ns, "immutable"), le)).To(Succeed())
		le.Spec.MongoDB.ReplicaSetName = "other"
		err = k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("replicaSetName cannot be changed after creation"))
	})

	It("lets Elasticsearch grow from three nodes, never from one, never shrink", func() {
		setReplicas := func(name string, n int32) error {
			le := &shopv1.LittleEcom{}
			Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			le.Spec.Logging.Elasticsearch.Replicas = &n
			return k8sClient.Update(ctx, le)
		}
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "single", "logging: {enabled: true}"))).To(Succeed())
		err := setReplicas("single", 3)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("elasticsearch replicas can only grow, and only from 3"))

		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "cluster", "logging: {enabled: true, elasticsearch: {replicas: 3}}"))).To(Succeed())
		Expect(setReplicas("cluster", 5)).To(Succeed())
		err = setReplicas("cluster", 3)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("elasticsearch replicas can only grow"))
	})
})

var _ = Describe("the samples in config/samples", func() {
	It("are accepted by the API server", func() {
		ns := newNamespace()
		for _, file := range []string{"shop_v1_littleecom.yaml", "shop_v1_littleecom_full.yaml", "shop_v1_littleecom_external.yaml"} {
			raw, err := os.ReadFile(filepath.Join("..", "config", "samples", file))
			Expect(err).NotTo(HaveOccurred())
			// A sample may carry the Secret it names before the shop.
			for doc := range strings.SplitSeq(string(raw), "\n---\n") {
				u := &unstructured.Unstructured{}
				Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
				u.SetNamespace(ns)
				// A dry run: the external sample's shop would otherwise look its database up.
				Expect(k8sClient.Create(ctx, u, client.DryRunAll)).To(Succeed(), file)
			}
		}
	})
})
