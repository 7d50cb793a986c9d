package cluster

import (
	"cmp"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// The suite's environment, as hack/cluster-shop.sh test sets it.
const (
	envKubeconfig        = "LITTLEECOM_CLUSTER_KUBECONFIG"
	envURL               = "LITTLEECOM_CLUSTER_URL"
	envNamespace         = "LITTLEECOM_CLUSTER_NAMESPACE"
	envShop              = "LITTLEECOM_CLUSTER_SHOP"
	envOperatorNamespace = "LITTLEECOM_CLUSTER_OPERATOR_NAMESPACE"
	envInfraNamespace    = "LITTLEECOM_CLUSTER_INFRA_NAMESPACE"
	envContainerd        = "CONTAINERD_ADDRESS"
)

// operatorDeployment is the operator's Deployment, and its ServiceAccount, as config/default
// and the Helm chart (release littleecom) name them.
const operatorDeployment = "littleecom-controller-manager"

// clusterEnv is where the shop under test runs.
type clusterEnv struct {
	kubeconfig        string
	url               string // the shop's API through the ingress controller
	namespace         string // the LittleEcom's namespace
	shop              string // the LittleEcom's name
	operatorNamespace string
	infraNamespace    string // FerretDB and Mailpit
	containerd        string // the node's containerd socket (for diagnostics only)
}

// envFromOS reads the environment; ok is false when the suite has no cluster to run against.
func envFromOS() (e clusterEnv, ok bool) {
	e = clusterEnv{
		kubeconfig:        os.Getenv(envKubeconfig),
		url:               cmp.Or(os.Getenv(envURL), "http://127.0.0.1:18080"),
		namespace:         cmp.Or(os.Getenv(envNamespace), "shop"),
		shop:              cmp.Or(os.Getenv(envShop), "littleecom"),
		operatorNamespace: cmp.Or(os.Getenv(envOperatorNamespace), "littleecom-system"),
		infraNamespace:    cmp.Or(os.Getenv(envInfraNamespace), "littleecom-infra"),
		containerd:        os.Getenv(envContainerd),
	}
	return e, e.kubeconfig != ""
}

// clients are the suite's two views of the API server: controller-runtime's uncached client
// for objects, client-go's clientset for what it cannot do (pod logs, token requests).
type clients struct {
	client.Client
	kube *kubernetes.Clientset
}

func newClients(kubeconfig string) (clients, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return clients{}, fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return clients{}, err
	}
	if err := shopv1.AddToScheme(scheme); err != nil {
		return clients{}, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return clients{}, fmt.Errorf("creating the client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return clients{}, fmt.Errorf("creating the clientset: %w", err)
	}
	return clients{Client: c, kube: kube}, nil
}
