package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackendSpec is the item service.
type BackendSpec struct {
	// replicas of the backend Deployment.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of the backend. Unset, the operator's default (littleecom/backend at the operator's
	// own version) is used and follows operator upgrades.
	// +optional
	Image Image `json:"image,omitempty"`

	// resources of the backend container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// itemCache keeps the items GET /item/{id} shows in each backend replica's memory for a
	// short time: one item page then costs no database lookup. A replica forgets its copy
	// when any replica writes the item (it hears the others through RabbitMQ within
	// milliseconds, and serves from the database while it cannot hear them); ttl bounds what
	// it may show when a message is lost.
	// +kubebuilder:default={}
	// +optional
	ItemCache ItemCacheSpec `json:"itemCache,omitzero"`
}

// ItemCacheSpec sizes the backend's item cache.
type ItemCacheSpec struct {
	// ttl is how long a replica may show an item as it read it, a duration such as 1s; 0s
	// turns the cache off.
	// +kubebuilder:default="1s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('1m')",message="itemCache.ttl must be between 0s and 1m"
	// +optional
	TTL *metav1.Duration `json:"ttl,omitempty"`

	// size is how many items a replica keeps at most; 0 turns the cache off.
	// +kubebuilder:default=10000
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Size *int32 `json:"size,omitempty"`
}

// AuthSpec is the account and token service.
// +kubebuilder:validation:XValidation:rule="!has(self.accessTokenTTL) || !has(self.refreshTokenTTL) || duration(self.accessTokenTTL) < duration(self.refreshTokenTTL)",message="accessTokenTTL must be shorter than refreshTokenTTL"
type AuthSpec struct {
	// replicas of the auth Deployment.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of auth. Unset, the operator's default (littleecom/auth at the operator's
	// own version) is used and follows operator upgrades.
	// +optional
	Image Image `json:"image,omitempty"`

	// resources of the auth container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// accessTokenTTL is the lifetime of an access token, a duration such as 15m.
	// +kubebuilder:default="15m0s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="accessTokenTTL must be between 1m and 24h"
	// +optional
	AccessTokenTTL *metav1.Duration `json:"accessTokenTTL,omitempty"`

	// refreshTokenTTL is the lifetime of a refresh token, a duration such as 720h.
	// +kubebuilder:default="720h0m0s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5m') && duration(self) <= duration('8760h')",message="refreshTokenTTL must be between 5m and 8760h (one year)"
	// +optional
	RefreshTokenTTL *metav1.Duration `json:"refreshTokenTTL,omitempty"`

	// trustedProxies are the CIDRs (your ingress controller's pods, the pod network) whose
	// X-Forwarded-For header auth believes when it limits failed sign-ins and registrations
	// per client. Empty: every request counts against the address it came from. Behind an
	// Ingress or a Gateway set it to the controller's pod CIDR (the operator cannot know it):
	// otherwise every shopper looks like the controller, and the per-client limits (40
	// registrations a minute, 100 failed sign-ins in 15 minutes) apply to the whole shop.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="trustedProxies must be CIDRs such as 10.0.0.0/8"
	// +listType=set
	// +optional
	TrustedProxies []string `json:"trustedProxies,omitempty"`

	// emailVerification makes a new account confirm its address, through a link that auth
	// mails via the notifier, before it can sign in. Off by default: the original clients
	// sign in right after they register. On, auth gets a RabbitMQ user that may only publish
	// to the shop's exchange, and the link starts with publicURL, so the shop needs a
	// publicURL or an Ingress with a host (not a wildcard).
	// +kubebuilder:default=false
	// +optional
	EmailVerification bool `json:"emailVerification,omitempty"`

	// publicURL is the shop's public base URL as shoppers reach it, e.g.
	// https://shop.example.com, which verification links start with. Unset, it is
	// spec.ingress.host with https when spec.ingress.tlsSecretName or certManager is set, http otherwise;
	// set it when TLS ends before the Ingress, on another port, or behind a Gateway.
	// +optional
	PublicURL PublicURL `json:"publicURL,omitempty"`
}

// PublicURL is an http or https URL with a host and optional port, without path, query or
// trailing slash, e.g. https://shop.example.com.
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$')",message="publicURL must be a URL with scheme and host such as https://shop.example.com (no path, no trailing slash)"
type PublicURL string

// StartTLS is how the notifier secures its SMTP session.
// +kubebuilder:validation:Enum=IfAvailable;Always;Never
type StartTLS string

// NotifierSpec is the e-mail service.
type NotifierSpec struct {
	// replicas of the notifier Deployment.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of the notifier. Unset, the operator's default (littleecom/notifier at the operator's
	// own version) is used and follows operator upgrades.
	// +optional
	Image Image `json:"image,omitempty"`

	// resources of the notifier container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// smtp is the relay the notifier hands e-mails to.
	// +kubebuilder:default={}
	// +optional
	SMTP SMTPSpec `json:"smtp,omitzero"`
}

// SMTPSpec is an SMTP relay.
type SMTPSpec struct {
	// host of the relay. Empty means no relay is configured: the notifier keeps events
	// queued (nothing is lost) and NotifierReady says so.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Host string `json:"host,omitempty"`

	// port of the relay.
	// +kubebuilder:default=587
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// from is the sender address.
	// +kubebuilder:default="LittleEcom <no-reply@littleecom.local>"
	// +kubebuilder:validation:MaxLength=320
	// +kubebuilder:validation:XValidation:rule="self.contains('@')",message="from must be an e-mail address such as shop@example.com"
	// +optional
	From string `json:"from,omitempty"`

	// startTLS: IfAvailable (use STARTTLS when the relay offers it), Always (refuse a relay
	// without STARTTLS) or Never. Unset means Always when credentialsSecretRef is set (a
	// password never crosses the network in the clear, even if the relay stops offering
	// STARTTLS) and IfAvailable otherwise.
	// +optional
	StartTLS StartTLS `json:"startTLS,omitempty"`

	// credentialsSecretRef names a Secret with the relay's `username` and `password`.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`
}
