// Package e2e walks a shopper's flows through the whole shop on this machine: the stack of
// make dev (cmd/dev/devstack) started on free ports, with the operator's configuration, the
// real service binaries, FerretDB, RabbitMQ and an SMTP sink, reached only through the
// gateway that routes by the operator's Ingress.
//
// It needs kube-apiserver and etcd (make envtest; KUBEBUILDER_ASSETS or bin/k8s) and a
// RabbitMQ on 127.0.0.1:5672 (make rabbitmq); make test provides both.
package e2e
