// Package mongors initiates, scales and provisions users of the MongoDB replica set that a
// LittleEcom object runs, so nobody types rs.initiate() again.
//
// The reconciler holds a Dialer and calls Ensure with the desired member count and users
// whenever the StatefulSet's pods are ready. Ensure derives every step from what MongoDB
// reports (replSetGetStatus, replSetGetConfig), so calling it again after any failure or an
// operator restart continues where the set is, never re-initiates, and changes at most one
// voting member per replSetReconfig (see NextConfig for the rule).
//
// # Reaching the pods
//
// Members are named by their stable DNS names through the headless Service
// (Topology.Host), and the operator dials them with a direct connection. Inside the cluster
// these names resolve. When the operator runs outside the cluster (make run, make dev) they
// do not: dialling fails with a DNS error, which Ensure returns as an *Error the reconciler
// can show in its condition. Two seams make another route possible without changing this
// package: Target.Host is any host:port, and Dialer is an interface — a port-forward dialer
// (client-go's portforward to the pod, then DriverDialer{NetDialer: ...} mapping each pod
// name to its local forwarded port) plugs in as DriverDialer.NetDialer or as a whole Dialer.
// The member names inside the replica-set config stay the in-cluster DNS names either way:
// they are what the mongod pods use to reach each other.
//
// # What mongod answers, and what Ensure does about it
//
// Every refusal is sorted into one of two kinds. Refusals that waiting fixes (an election,
// a reconfig in progress or not yet committed, a quorum check or step-down that found too
// few members, a write not yet replicated, timeouts) end in a Result that is not Ready and
// a message. Refusals that waiting does not fix (an invalid config, wrong credentials, a set
// started under another name) end in PhaseRejected and the refusal as the error, so that a
// reconciler shows it and does not retry it in a loop. NewReplicaSetConfigurationIncompatible
// (103) is both: Ensure reads the config again, and only when its version did not move
// (no concurrent reconfig, e.g. mongod's own removal of newlyAdded) is it permanent.
//
// replSetReconfig and replSetStepDown get Target.ReconfigTimeout (15 s by default), longer
// than mongod's own waits (quorum check, catch-up period), so that mongod's answer arrives
// before the operator gives up. Root's password is changed by Ensure itself when the
// Secret's differs from the one MongoDB accepts (Target.PreviousPassword): the image's
// entrypoint creates root once.
//
// Package mongorstest holds a wire-protocol test double of a replica set that the driver
// code here is tested against, and that the reconciler's tests can start too.
package mongors
