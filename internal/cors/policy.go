package cors

import (
	"errors"
	"slices"
	"strings"
)

// AnyOrigin in AllowOrigins allows every origin.
const AnyOrigin = "*"

// Policy is a cross-origin policy.
type Policy struct {
	// Enabled says whether this place answers CORS at all. CORS is answered in exactly one
	// place (duplicate Access-Control-Allow-Origin headers make browsers refuse), so the
	// services' middleware is off when an edge answers.
	Enabled bool
	// AllowOrigins are the origins allowed to call: AnyOrigin, an exact origin
	// ("https://shop.example.com"), or one with a wildcard first label
	// ("https://*.example.com", any subdomain). See Allows.
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	// MaxAge is how many seconds a preflight may be cached; 0 leaves it to the answering
	// place's default.
	MaxAge int
}

// AllowsAnyOrigin reports whether the policy allows every origin.
func (p Policy) AllowsAnyOrigin() bool { return slices.Contains(p.AllowOrigins, AnyOrigin) }

// Allows reports whether a request from origin may be answered with CORS headers. Origins
// compare case-insensitively (scheme and host are; browsers send them lower-case), and a
// wildcard origin matches any subdomain of its host, at any depth, with the same scheme and
// port. With AnyOrigin every origin is allowed, even an empty one: ingress-nginx answers
// such a policy on every request, and the middleware checks for an Origin header first.
func (p Policy) Allows(origin string) bool {
	if p.AllowsAnyOrigin() {
		return true
	}
	for _, allowed := range p.AllowOrigins {
		if MatchOrigin(allowed, origin) {
			return true
		}
	}
	return false
}

// MatchOrigin reports whether origin matches one allowed origin (not AnyOrigin).
func MatchOrigin(allowed, origin string) bool {
	allowed, origin = strings.ToLower(allowed), strings.ToLower(origin)
	if allowed == origin {
		return true
	}
	scheme, host, ok := strings.Cut(allowed, "://*.")
	if !ok {
		return false
	}
	rest, found := strings.CutPrefix(origin, scheme+"://")
	if !found {
		return false
	}
	sub, found := strings.CutSuffix(rest, "."+host)
	return found && sub != "" && !strings.Contains(sub, "/")
}

// Errors of Validate.
var (
	ErrAnyOriginCombined        = errors.New("allowOrigins: '*' cannot be combined with other origins")
	ErrCredentialsWithAnyOrigin = errors.New("allowCredentials needs explicit allowOrigins, not '*'")
)

// Validate refuses a policy an edge cannot render faithfully: '*' beside other origins, or
// credentials with any origin (browsers refuse credentials with a wildcard, and
// ingress-nginx would answer '*'). The CRD refuses both too. The services' middleware
// accepts the second and echoes the origin instead.
func (p Policy) Validate() error {
	if p.AllowsAnyOrigin() && len(p.AllowOrigins) > 1 {
		return ErrAnyOriginCombined
	}
	if p.AllowsAnyOrigin() && p.AllowCredentials {
		return ErrCredentialsWithAnyOrigin
	}
	return nil
}
