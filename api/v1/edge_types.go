package v1

// IngressSpec is the Ingress in front of auth and backend.
// +kubebuilder:validation:XValidation:rule="!has(self.certManager) || (has(self.host) && size(self.host) > 0)",message="ingress.certManager needs ingress.host: a certificate is issued for a host name"
type IngressSpec struct {
	// enabled creates the Ingress. On by default, as in the original shop.
	// +kubebuilder:default=true
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// className is the IngressClass.
	// +kubebuilder:default="nginx"
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClassName string `json:"className,omitempty"`

	// host the Ingress answers for; empty answers every host.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	Host string `json:"host,omitempty"`

	// tlsSecretName is a kubernetes.io/tls Secret for host; empty serves plain HTTP unless
	// certManager is set. With certManager it is the Secret cert-manager writes (default
	// <name>-tls).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	TLSSecretName string `json:"tlsSecretName,omitempty"`

	// certManager has cert-manager issue and renew the Ingress's certificate: the Ingress
	// gets the cert-manager.io issuer annotation and a tls section for host, and
	// cert-manager's ingress-shim keeps the certificate in tlsSecretName. It needs
	// cert-manager installed (IngressReady says so when it is not) and a host.
	// +optional
	CertManager *CertManagerSpec `json:"certManager,omitempty"`

	// cors is answered at the edge; the services' own CORS middleware is then turned off so
	// that exactly one place sets the headers.
	// +kubebuilder:default={}
	// +optional
	CORS CORSSpec `json:"cors,omitzero"`
}

// IssuerKind is the kind of a cert-manager issuer.
// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
type IssuerKind string

// Issuer kinds of cert-manager.
const (
	// IssuerKindIssuer is an Issuer in the shop's namespace.
	IssuerKindIssuer IssuerKind = "Issuer"
	// IssuerKindClusterIssuer is a cluster-wide ClusterIssuer.
	IssuerKindClusterIssuer IssuerKind = "ClusterIssuer"
)

// CertManagerSpec names the cert-manager issuer of the edge's certificate.
type CertManagerSpec struct {
	// issuerName is the name of the Issuer or ClusterIssuer, e.g. letsencrypt-prod.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +required
	IssuerName string `json:"issuerName"`

	// issuerKind is Issuer (in the shop's namespace, the default) or ClusterIssuer.
	// +kubebuilder:default=Issuer
	// +optional
	IssuerKind IssuerKind `json:"issuerKind,omitempty"`
}

// Origin is `*` or a URL with scheme, host and optional port, e.g. https://shop.example.com.
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:XValidation:rule="self == '*' || self.matches('^https?://(\\\\*\\\\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$')",message="origin must be '*' or a URL with scheme and host such as https://shop.example.com (no path, no trailing slash)"
type Origin string

// HTTPMethod is an HTTP method allowed by CORS.
// +kubebuilder:validation:Enum=GET;HEAD;POST;PUT;PATCH;DELETE;OPTIONS
type HTTPMethod string

// HeaderName is an HTTP header name.
// +kubebuilder:validation:MaxLength=128
// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
type HeaderName string

// CORSSpec is the cross-origin policy of the API.
// +kubebuilder:validation:XValidation:rule="!(self.allowCredentials == true && has(self.allowOrigins) && self.allowOrigins.exists(o, o == '*'))",message="allowCredentials cannot be true while allowOrigins contains '*': browsers reject credentials with a wildcard origin; list the allowed origins instead"
type CORSSpec struct {
	// allowOrigins lists the origins allowed to call the API; `*` allows any.
	// +kubebuilder:default={"*"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="!self.exists(o, o == '*') || size(self) == 1",message="'*' cannot be combined with other origins"
	// +listType=set
	// +optional
	AllowOrigins []Origin `json:"allowOrigins,omitempty"`

	// allowMethods lists the methods allowed cross-origin.
	// +kubebuilder:default={"GET","PUT","POST","DELETE","PATCH","OPTIONS"}
	// +kubebuilder:validation:MaxItems=7
	// +listType=set
	// +optional
	AllowMethods []HTTPMethod `json:"allowMethods,omitempty"`

	// allowHeaders lists the request headers allowed cross-origin.
	// +kubebuilder:default={"DNT","Keep-Alive","User-Agent","X-Requested-With","If-Modified-Since","Cache-Control","Content-Type","Range","Authorization"}
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	// +optional
	AllowHeaders []HeaderName `json:"allowHeaders,omitempty"`

	// allowCredentials lets browsers send cookies and Authorization cross-origin. It needs
	// explicit origins.
	// +kubebuilder:default=false
	// +optional
	AllowCredentials bool `json:"allowCredentials,omitempty"`

	// maxAge is how long, in seconds, browsers may cache a preflight answer.
	// +kubebuilder:default=86400
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1728000
	// +optional
	MaxAge *int32 `json:"maxAge,omitempty"`
}

// GatewaySpec attaches an HTTPRoute with the Ingress's rules to existing Gateways.
type GatewaySpec struct {
	// parentRefs are the Gateways (and optionally their listeners) to attach to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	ParentRefs []GatewayParentRef `json:"parentRefs"`

	// hostnames the route answers for; empty inherits the listeners' hostnames. DNS names,
	// optionally with a leading `*.` wildcard label, as Gateway API's Hostname type.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +listType=set
	// +optional
	Hostnames []string `json:"hostnames,omitempty"`
}

// GatewayParentRef names a Gateway.
type GatewayParentRef struct {
	// name of the Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// namespace of the Gateway; defaults to the LittleEcom's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// sectionName is the listener name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	SectionName string `json:"sectionName,omitempty"`
}
