// Package cluster is the end-to-end suite of make test-cluster: it runs against the shop
// that hack/cluster-shop.sh deploys on the real single-node Kubernetes of hack/cluster.sh,
// where pods, probes, Services, DNS, NetworkPolicies and the ingress controller really run.
//
// It walks a shopper's flows through the ingress controller, reads the e-mails in Mailpit,
// checks NetworkPolicy enforcement with the netcheck pod (netcheck/), the pods' hardening
// (from their specs and from the running processes in /proc), rollouts, healing, an operator
// restart that must write nothing and, last, the shop's deletion.
//
// Everything is skipped unless LITTLEECOM_CLUSTER_KUBECONFIG is set (suite_test.go lists the
// environment); the suite reads /proc of the node's host, so it runs as root on that host.
package cluster
