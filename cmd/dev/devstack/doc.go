// Package devstack runs the whole shop on one machine: it is `make dev` (cmd/dev) and the
// stack the end-to-end suite (e2e/) starts on free ports.
//
// # What runs
//
//   - kube-apiserver and etcd (envtest, binaries from bin/k8s/<version>), etcd's data under
//     the data directory (bin/dev, or $LITTLEECOM_DATA), the CRDs from config/crd/bases and a
//     kubeconfig at <data>/kubeconfig;
//   - the operator in-process (controllers.Setup, with the scheme and cache of cmd/manager);
//   - the minimal sample (config/samples/shop_v1_littleecom.yaml) in namespace littleecom; a
//     shop kept in etcd from an earlier run, perhaps edited with kubectl, is left as it is;
//   - FerretDB v1 in-process (SQLite under <data>/ferretdb), the local RabbitMQ on
//     127.0.0.1:5672, an SMTP sink in-process;
//   - auth, backend and notifier as local processes, built from cmd/ into <data>/bin, each
//     in its own process group, configured from the operator's Deployments;
//   - a gateway on 127.0.0.1:8080 ($LITTLEECOM_ADDR) that routes by the operator's Ingress.
//
// # Configured from the operator, mapped to this machine
//
// Each service's environment is what its Deployment gives a pod: envFrom ConfigMaps and
// Secrets, env values and secretKeyRefs, read from the API server. Then, and only then, the
// in-cluster endpoints are mapped, each mapping logged with its reason:
//
//   - HTTP_ADDR: a free loopback port instead of :8080 (MANAGEMENT_ADDR likewise). The runner
//     binds the ports and the process inherits the sockets (internal/loopback), so no other
//     program can take them in between, and a restart gets the same ones.
//   - MONGODB_URI: the replica-set members become the one FerretDB, with directConnection=true
//     (FerretDB has no replica-set commands; ?replicaSet= fails against it).
//   - MONGODB_USERNAME/PASSWORD: dropped. Embedded FerretDB v1.24 (SQLite) has no createUser,
//     refuses SCRAM-SHA-1/256 (the driver's default mechanism: AuthenticationFailed
//     "Unsupported authentication mechanism") and accepts PLAIN with any password, so the
//     operator's per-service users can be neither created nor enforced here. The database
//     names (one per service) are kept.
//   - AMQP_URL: amqp://127.0.0.1:5672/<vhost>. The operator's definitions.json (from the
//     Secret <n>-rabbitmq-definitions) is imported into that vhost through the management
//     API (POST /api/definitions; rabbitmqctl import_definitions without the plugin): the
//     same password hashes, least-privilege permissions (backend: publishes to ecom-exchange
//     and ecom-item-changes, declares and reads only its own amq.gen- queue; notifier:
//     configure "^$") and topology. The services therefore log in
//     as the operator made them, which proves its RabbitMQ configuration with the real
//     binaries.
//   - AMQP_USERNAME: "<vhost>-<user>". Users are broker-wide and this broker is shared (make
//     test, other stacks), each stack with its own passwords; the import renames them, the
//     password and permissions stay the operator's.
//   - SMTP_HOST/PORT: the sink (also when the sample leaves the relay empty); SMTP
//     credentials dropped and STARTTLS Always relaxed to IfAvailable: the sink speaks plain
//     SMTP on loopback and takes mail without authentication.
//   - AUTH_JWKS_URL: local auth. LOG_FORMAT: text, for a person reading a terminal.
//
// Anything still naming *.svc.cluster.local after mapping is reported as unknown.
//
// # Playing the cluster's controllers
//
// There is no kubelet in envtest. The stack writes the status of the services' Deployments
// (ready while the local process answers /readyz; one process stands in for all replicas),
// of the MongoDB StatefulSet (ready while FerretDB answers) and of the RabbitMQ StatefulSet
// (while the broker accepts connections), and publishes the gateway's address on the
// Ingress, as an ingress controller does, so `kubectl get le` shows the shop Ready. The
// operator's ReplicaSetManager is a stand-in that pings FerretDB and reports one standalone
// PRIMARY member named by its local address; it never runs or claims replSetInitiate.
// When the operator changes a service's configuration (kubectl edit le ..., a Secret), the
// service is restarted with its new environment on the same address, as a rollout would.
//
// # The gateway
//
// It reads the Ingress <n> through the operator's informer cache on every request (so it
// follows every change): rules' paths (Exact, Prefix by path element, longest first),
// backends by Service name (mapped to the local process), the default backend. Rule hosts
// are served on every host. CORS follows ingress-nginx: with enable-cors, a request whose
// Origin the cors-allow-origin list admits ("*", exact, or https://*.domain) gets
// Allow-Origin (the origin, or * for *), Allow-Methods, Allow-Headers, Max-Age, and
// Allow-Credentials when cors-allow-credentials is true (nginx's defaults where an
// annotation is absent); an OPTIONS request is answered 204 by the gateway itself; headers
// the service sent are replaced, so there is exactly one Access-Control-Allow-Origin. GET
// /dev/mail serves the sink's e-mails as a JSON array, newest last.
//
// # Stopping and failing
//
// Stop (SIGINT/SIGTERM in make dev) takes about a second: SIGTERM to each service's process
// group (SIGKILL after 5 s), the operator, envtest, FerretDB, the sink; nothing is left
// running or listening. Services also die with the runner if it is SIGKILLed (Pdeathsig),
// and the next start stops the etcd and kube-apiserver such a runner left behind. The
// system RabbitMQ is not stopped: it is a shared system service (make test, other
// engineers) that the Makefile's rabbitmq target starts when absent; make dev keeps its
// vhost and users, as it keeps FerretDB's and etcd's data, so queued events survive a
// restart; an Ephemeral stack (the e2e suite) deletes them.
//
// A second runner on the same data directory fails at once (flock on <data>/dev.lock), as
// does one whose gateway port is taken (named, with the variable that changes it). A missing
// RabbitMQ, a failed build, a service that exits or never answers /readyz (with its last
// /readyz answer) are reported by name with the component's last log lines; a component
// that dies later ends make dev with exit status 1 and the same report.
package devstack
