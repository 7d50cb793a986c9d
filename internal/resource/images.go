package resource

import (
	"fmt"
	"regexp"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// OperatorVersion is the operator's release; the shop's own services (backend, auth,
// notifier) are released with it, so their default images carry the same tag. The build
// may set it with -ldflags "-X littleecom.io/littleecom/internal/resource.OperatorVersion=…".
var OperatorVersion = "0.1.0"

// Images are the images a shop runs when its spec names none. They are the operator's, not
// the CRD's: a CRD default is written into every stored LittleEcom once, so an operator
// upgrade could never move an existing shop to a newer default. Resolved at every reconcile
// instead (the RabbitMQ cluster operator's pattern), a changed default reaches every shop
// that did not pin an image in its spec, rolled out as each workload's update strategy
// allows (MongoDB one member at a time, the primary last).
//
// No default is pinned by digest: the operator is built without access to a registry, so
// no digest could be read and verified. An operator configuration may pin one (the
// --default-*-image flags accept name@sha256:… and name:tag@sha256:…).
type Images struct {
	MongoDB  string
	RabbitMQ string
	Backend  string
	Auth     string
	Notifier string
}

// Default images of this operator release. MongoDB stays on the 7.0 series: moving a shop
// to another major is a rollout the operator performs (feature compatibility version
// included) but only one major at a time, so it is a deliberate change of this default.
const (
	DefaultMongoDBImage  = "mongo:7.0"
	DefaultRabbitMQImage = "rabbitmq:3.13-management"
)

// DefaultImages returns the images compiled into this operator release.
func DefaultImages() Images {
	return Images{
		MongoDB:  DefaultMongoDBImage,
		RabbitMQ: DefaultRabbitMQImage,
		Backend:  serviceImage(ComponentBackend),
		Auth:     serviceImage(ComponentAuth),
		Notifier: serviceImage(ComponentNotifier),
	}
}

func serviceImage(component string) string {
	return fmt.Sprintf("littleecom/%s:%s", component, OperatorVersion)
}

// imageRef accepts [host[:port]/]path[:tag][@sha256:<64 hex>], the references a container
// runtime pulls; it is deliberately looser than the distribution grammar on path components.
var imageRef = regexp.MustCompile(`^[a-z0-9]([-a-z0-9._]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*` +
	`(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// Validate reports the first default that is empty or not an image reference, so that a
// mistyped flag stops the manager at start instead of breaking every shop.
func (i Images) Validate() error {
	for _, c := range []struct{ name, ref string }{
		{ComponentMongoDB, i.MongoDB}, {ComponentRabbitMQ, i.RabbitMQ},
		{ComponentBackend, i.Backend}, {ComponentAuth, i.Auth}, {ComponentNotifier, i.Notifier},
	} {
		if !imageRef.MatchString(c.ref) {
			return fmt.Errorf("default %s image %q is not an image reference such as %s", c.name, c.ref, DefaultImages().of(c.name))
		}
	}
	return nil
}

// of returns the default image of component, "" for a component without one here.
func (i Images) of(component string) string {
	switch component {
	case ComponentMongoDB:
		return i.MongoDB
	case ComponentRabbitMQ:
		return i.RabbitMQ
	case ComponentBackend:
		return i.Backend
	case ComponentAuth:
		return i.Auth
	case ComponentNotifier:
		return i.Notifier
	}
	return ""
}

// ImageComponents are the components whose image the operator resolves and reports.
var ImageComponents = []string{ComponentMongoDB, ComponentRabbitMQ, ComponentBackend, ComponentAuth, ComponentNotifier}

// Image is the image component runs: the spec's when it names one, else the operator's
// default (s.Images, DefaultImages when the reconciler was given none).
func (s *Shop) Image(component string) string {
	if pinned := s.PinnedImage(component); pinned != "" {
		return pinned
	}
	if def := s.Images.of(component); def != "" {
		return def
	}
	return DefaultImages().of(component)
}

// PinnedImage is the image the spec names for component, "" when it leaves the choice to
// the operator (and so follows the operator's default across upgrades). An image equal to
// what an earlier release's CRD defaulted counts as unset (formerCRDDefaults).
func (s *Shop) PinnedImage(component string) string {
	spec := s.Instance.Spec
	var image shopv1.Image
	switch component {
	case ComponentMongoDB:
		image = spec.MongoDB.Image
	case ComponentRabbitMQ:
		image = spec.RabbitMQ.Image
	case ComponentBackend:
		image = spec.Backend.Image
	case ComponentAuth:
		image = spec.Auth.Image
	case ComponentNotifier:
		image = spec.Notifier.Image
	}
	if formerCRDDefaults[component] == string(image) {
		return ""
	}
	return string(image)
}

// formerCRDDefaults are the images that releases up to 0.1.0 wrote into every LittleEcom as
// CRD defaults. A stored spec cannot tell them from a choice, and taking them as a choice
// would freeze every existing shop on them for good: they count as unset, so an existing
// shop follows the operator's default from the upgrade on. To stay on exactly such an
// image, pin it under another spelling (library/rabbitmq:3.13-management). MongoDB
// never had a CRD default. (The logging stack's are in logging_images.go.)
var formerCRDDefaults = map[string]string{
	ComponentRabbitMQ: "rabbitmq:3.13-management",
	ComponentBackend:  "littleecom/backend:0.1.0",
	ComponentAuth:     "littleecom/auth:0.1.0",
	ComponentNotifier: "littleecom/notifier:0.1.0",
}
