// Package projectcheck holds the tests that keep kubebuilder's PROJECT file and the tree
// agreeing: every resource PROJECT records is where the go/v4 layout puts it (api/<version>,
// its webhooks in internal/webhook/<version>), every controller it records is a reconciler in
// the top-level controllers/ package, and the kubebuilder CLI of PROJECT's cliVersion
// (bin/kubebuilder, `make kubebuilder`), run through hack/kubebuilder.sh on a copy of the
// tree, scaffolds a new API version, its controller and a webhook where
// docs/architecture.md says they go, leaving a tree that type-checks.
//
// The manager (cmd/manager) and the reconcilers (controllers/) are the two places the tree
// departs from go/v4, which hard-codes cmd/main.go and internal/controller; the tests also
// hold those two paths empty, so that nothing lands in kubebuilder's defaults by accident.
package projectcheck
