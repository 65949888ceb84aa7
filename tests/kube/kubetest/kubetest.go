// Package kubetest is the harness for integration tests against the
// Kubernetes testbed that hack/testbed/up.sh starts: a real API server, a
// real node, kube-proxy, a NetworkPolicy enforcer and a plain-HTTP registry,
// all inside a private network namespace.
//
// A test package calls Main from its TestMain; each test calls Require to get
// the Cluster (or to be skipped, or failed under PAUDE_REQUIRE_ALL=1, when
// the testbed is not there), then Namespace for a throw-away namespace whose
// events and pod logs are dumped into the test log when the test fails.
//
// The harness only ever uses PAUDE_TESTBED_KUBECONFIG, never KUBECONFIG, so
// it cannot be pointed at a real cluster by accident.
package kubetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment variables written by hack/testbed/up.sh into its env file.
const (
	// EnvKubeconfig names the testbed's admin kubeconfig.
	EnvKubeconfig = "PAUDE_TESTBED_KUBECONFIG"
	// EnvRegistry is host:port of the plain-HTTP registry the node pulls from.
	EnvRegistry = "PAUDE_TESTBED_REGISTRY"
	// EnvImage is the locally loaded test image (busybox and probe).
	EnvImage = "PAUDE_TESTBED_IMAGE"
	// EnvImageArchive is the docker-archive file of EnvImage.
	EnvImageArchive = "PAUDE_TESTBED_IMAGE_TAR"
	// EnvNode is the name of the testbed's only node.
	EnvNode = "PAUDE_TESTBED_NODE"
	// EnvBin is the directory of the testbed binaries (kubectl among them).
	EnvBin = "PAUDE_TESTBED_BIN"
	// EnvNetns is the path of the testbed's network namespace.
	EnvNetns = "PAUDE_TESTBED_NETNS_PATH"
	// EnvRequireAll turns every skip for a missing prerequisite into a failure.
	EnvRequireAll = "PAUDE_REQUIRE_ALL"
)

// Cluster is a running testbed and clients for it.
type Cluster struct {
	// Kubeconfig is the path of the admin kubeconfig.
	Kubeconfig string
	// Config is the admin REST config.
	Config *rest.Config
	// Client is a typed client with admin rights.
	Client kubernetes.Interface
	// Dynamic is a dynamic client with admin rights, for CRDs such as Route.
	Dynamic dynamic.Interface
	// Registry is host:port of the plain-HTTP registry the node pulls from.
	Registry string
	// Image is a local image with busybox and the probe helper (see
	// hack/testbed/mods/probe); pods must use PullPolicy Never for it.
	Image string
	// ImageArchive is the docker-archive file Image was loaded from.
	ImageArchive string
	// Node is the name of the only node.
	Node string
	// BinDir holds the testbed binaries, kubectl among them.
	BinDir string
}

var (
	current     *Cluster
	unavailable = "kubetest.Main was not called from TestMain"
)

// Main connects to the testbed, runs the tests and exits. Call it from
// TestMain. An unreachable testbed does not stop the run: Require then
// skips (or fails) each test with the reason.
func Main(m *testing.M) {
	current, unavailable = connect()
	os.Exit(m.Run())
}

// Require returns the testbed. Without one it skips the test with the
// reason, or fails it when PAUDE_REQUIRE_ALL=1.
func Require(t testing.TB) *Cluster {
	t.Helper()
	if current != nil {
		return current
	}
	if os.Getenv(EnvRequireAll) == "1" {
		t.Fatalf("kubernetes testbed required (%s=1) but unavailable: %s", EnvRequireAll, unavailable)
	}
	t.Skipf("kubernetes testbed unavailable: %s", unavailable)
	return nil
}

// connect builds the clients and checks that the API server is ready. It
// returns the reason when it cannot.
func connect() (*Cluster, string) {
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		return nil, EnvKubeconfig + " is not set: run hack/testbed/test-kube.sh (or make test-kube)"
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Sprintf("failed to load kubeconfig %s: %v: bring the testbed up with hack/testbed/up.sh", path, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Sprintf("failed to create a client from %s: %v", path, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Sprintf("failed to create a dynamic client from %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		netns := os.Getenv(EnvNetns)
		if netns == "" {
			netns = "see " + EnvNetns + " in the testbed's env file"
		}
		return nil, fmt.Sprintf("testbed API server %s is not ready: %v: bring the testbed up with hack/testbed/up.sh and run the tests "+
			"inside its network namespace (%s), as hack/testbed/test-kube.sh does", cfg.Host, err, netns)
	}
	c := &Cluster{
		Kubeconfig:   path,
		Config:       cfg,
		Client:       client,
		Dynamic:      dyn,
		Registry:     os.Getenv(EnvRegistry),
		Image:        os.Getenv(EnvImage),
		ImageArchive: os.Getenv(EnvImageArchive),
		Node:         os.Getenv(EnvNode),
		BinDir:       os.Getenv(EnvBin),
	}
	for name, v := range map[string]string{EnvRegistry: c.Registry, EnvImage: c.Image, EnvImageArchive: c.ImageArchive, EnvNode: c.Node} {
		if v == "" {
			return nil, name + " is not set: source the testbed's env file written by hack/testbed/up.sh"
		}
	}
	return c, ""
}
