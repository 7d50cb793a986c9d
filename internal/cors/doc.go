// Package cors is the one model of a cross-origin policy in LittleEcom: what is allowed
// (origins, methods, headers, credentials, how long a preflight may be cached) and how a
// request's Origin is matched against it.
//
// Three places answer CORS, and all of them use this model so that a policy means the same
// at each: the services' own middleware (services/internal/httpx, for direct access without
// an edge), the operator's edge renderings (internal/resource turns spec.ingress.cors into
// ingress-nginx annotations or a Gateway API CORS filter) and the dev gateway that stands in
// for ingress-nginx (cmd/dev/devstack). How each renders its answer (header values, the
// annotation syntax) stays with it; what the policy is and which origins it allows is here.
//
// It is a leaf that both the operator and the services import (like internal/contract), so
// it imports nothing of the project.
package cors
