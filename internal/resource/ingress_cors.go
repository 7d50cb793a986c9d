package resource

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ingress-nginx CORS annotations. The operator owns exactly these keys on its Ingress;
// every other annotation (cert-manager, rewrites, a user's own) is left alone.
const (
	nginxAnnotationPrefix           = "nginx.ingress.kubernetes.io/"
	AnnotationNginxEnableCORS       = nginxAnnotationPrefix + "enable-cors"
	AnnotationNginxCORSAllowOrigin  = nginxAnnotationPrefix + "cors-allow-origin"
	AnnotationNginxCORSAllowMethods = nginxAnnotationPrefix + "cors-allow-methods"
	AnnotationNginxCORSAllowHeaders = nginxAnnotationPrefix + "cors-allow-headers"
	AnnotationNginxCORSAllowCreds   = nginxAnnotationPrefix + "cors-allow-credentials"
	AnnotationNginxCORSMaxAge       = nginxAnnotationPrefix + "cors-max-age"
	// AnnotationNginxCORSExposeHeaders is not rendered by the operator; the dev gateway honours it.
	AnnotationNginxCORSExposeHeaders       = nginxAnnotationPrefix + "cors-expose-headers"
	nginxListSeparator                     = ", "
	gatewayMinCORSMaxAge             int32 = 1
)

// nginxCORSAnnotations are the keys the Ingress builder manages; one that the rendering
// no longer produces is removed.
var nginxCORSAnnotations = []string{
	AnnotationNginxEnableCORS, AnnotationNginxCORSAllowOrigin, AnnotationNginxCORSAllowMethods,
	AnnotationNginxCORSAllowHeaders, AnnotationNginxCORSAllowCreds, AnnotationNginxCORSMaxAge,
}

// ingress-nginx refuses an Ingress whose CORS annotations do not match its validators
// (annotation values end up in nginx.conf). These mirror them so that a value nginx would
// reject, or that could inject configuration, is reported here instead of rendered.
var (
	nginxOriginRe = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]+)?$`)
	nginxMethodRe = regexp.MustCompile(`^[A-Za-z]+$`)
	nginxHeaderRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// corsPolicy is spec.ingress.cors with the CRD's defaults applied and its lists cleaned:
// entries trimmed, empty ones dropped, duplicates (case-insensitive) removed, the user's
// order kept so the rendering is stable.
type corsPolicy struct {
	origins     []string
	methods     []string
	headers     []string
	credentials bool
	maxAge      int32
}

// edgeCORS returns the CORS policy the edge answers with, or an error for a policy no
// browser would accept (credentials with any origin), which the CRD also refuses.
func (s *Shop) edgeCORS() (corsPolicy, error) {
	cors := s.Instance.Spec.Ingress.CORS
	p := corsPolicy{
		origins:     cleanList(cors.AllowOrigins, defaultCORSOrigins),
		methods:     cleanList(cors.AllowMethods, defaultCORSMethods),
		headers:     cleanList(cors.AllowHeaders, defaultCORSHeaders),
		credentials: cors.AllowCredentials,
		maxAge:      ptr.Deref(cors.MaxAge, defaultCORSMaxAge),
	}
	if slices.Contains(p.origins, "*") && len(p.origins) > 1 {
		return p, fmt.Errorf("spec.ingress.cors.allowOrigins: '*' cannot be combined with other origins")
	}
	if p.anyOrigin() && p.credentials {
		return p, fmt.Errorf("spec.ingress.cors: allowCredentials needs explicit allowOrigins, not '*'")
	}
	return p, nil
}

func (p corsPolicy) anyOrigin() bool { return len(p.origins) == 1 && p.origins[0] == "*" }

// nginxAnnotations renders the policy as ingress-nginx annotations.
func (p corsPolicy) nginxAnnotations() (map[string]string, error) {
	if !p.anyOrigin() {
		if err := checkAll("allowOrigins", p.origins, nginxOriginRe); err != nil {
			return nil, err
		}
	}
	if err := checkAll("allowMethods", p.methods, nginxMethodRe); err != nil {
		return nil, err
	}
	if err := checkAll("allowHeaders", p.headers, nginxHeaderRe); err != nil {
		return nil, err
	}
	return map[string]string{
		AnnotationNginxEnableCORS:       strconv.FormatBool(true),
		AnnotationNginxCORSAllowOrigin:  strings.Join(p.origins, nginxListSeparator),
		AnnotationNginxCORSAllowMethods: strings.Join(p.methods, nginxListSeparator),
		AnnotationNginxCORSAllowHeaders: strings.Join(p.headers, nginxListSeparator),
		AnnotationNginxCORSAllowCreds:   strconv.FormatBool(p.credentials),
		AnnotationNginxCORSMaxAge:       strconv.Itoa(int(p.maxAge)),
	}, nil
}

// httpRouteFilter renders the policy as the Gateway API CORS filter. Semantics worth
// knowing: with allowOrigins ["*"] and no credentials the gateway may answer `*` or echo
// the Origin; with credentials the origins are explicit (checked in edgeCORS) and the
// gateway echoes the matching Origin, never `*`. Gateway API's maxAge minimum is 1 s, so a
// maxAge of 0 ("do not cache preflights") becomes 1.
func (p corsPolicy) httpRouteFilter() gatewayv1.HTTPRouteFilter {
	f := &gatewayv1.HTTPCORSFilter{
		AllowCredentials: new(p.credentials),
		MaxAge:           max(p.maxAge, gatewayMinCORSMaxAge),
	}
	for _, o := range p.origins {
		f.AllowOrigins = append(f.AllowOrigins, gatewayv1.CORSOrigin(o))
	}
	for _, m := range p.methods {
		f.AllowMethods = append(f.AllowMethods, gatewayv1.HTTPMethodWithWildcard(m))
	}
	for _, h := range p.headers {
		f.AllowHeaders = append(f.AllowHeaders, gatewayv1.HTTPHeaderName(h))
	}
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: f}
}

// cleanList trims items, drops empty ones and case-insensitive duplicates (the first
// spelling wins), or returns def when nothing is left.
func cleanList[T ~string](items []T, def []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, item := range items {
		v := strings.TrimSpace(string(item))
		k := strings.ToLower(v)
		if v == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	if len(out) == 0 {
		return append([]string(nil), def...)
	}
	return out
}

func checkAll(field string, items []string, re *regexp.Regexp) error {
	for _, item := range items {
		if !re.MatchString(item) {
			return fmt.Errorf("spec.ingress.cors.%s: %q cannot be expressed as an ingress-nginx annotation", field, item)
		}
	}
	return nil
}
