// Package kubetest is the harness for integration tests against the
// Kubernetes testbed that hack/testbed/up.sh starts: a real API server, a
// real node, kube-proxy, a NetworkPolicy enforcer, CoreDNS, a dynamic
// volume provisioner, a private registry with TLS and token auth standing in
// for OpenShift's integrated registry, and a fake internet, all inside
// private network namespaces.
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
	"strings"
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
	// EnvRegistry is host:port of the registry as pods name images
	// (image-registry.openshift-image-registry.svc:5000).
	EnvRegistry = "PAUDE_TESTBED_REGISTRY"
	// EnvRegistryRoute is the registry's default route host, where clients
	// outside the cluster push (port 443).
	EnvRegistryRoute = "PAUDE_TESTBED_REGISTRY_ROUTE"
	// EnvRegistryCertDir is a directory holding the testbed CA as ca.crt,
	// for podman --cert-dir.
	EnvRegistryCertDir = "PAUDE_TESTBED_REGISTRY_CERT_DIR"
	// EnvRegistryLog is the registry's request log.
	EnvRegistryLog = "PAUDE_TESTBED_REGISTRY_LOG"
	// EnvCA is the testbed CA certificate (PEM).
	EnvCA = "PAUDE_TESTBED_CA"
	// EnvPKI is the directory of the testbed's keys and certificates.
	EnvPKI = "PAUDE_TESTBED_PKI"
	// EnvUser is the name of the non-admin test user.
	EnvUser = "PAUDE_TESTBED_USER"
	// EnvUserKubeconfig is the test user's kubeconfig (a bearer token).
	EnvUserKubeconfig = "PAUDE_TESTBED_USER_KUBECONFIG"
	// EnvUserTokenFile holds the test user's bearer token.
	EnvUserTokenFile = "PAUDE_TESTBED_USER_TOKEN_FILE"
	// EnvImage is the locally loaded test image (busybox and probe).
	EnvImage = "PAUDE_TESTBED_IMAGE"
	// EnvImageNonRoot is EnvImage with USER 65534.
	EnvImageNonRoot = "PAUDE_TESTBED_IMAGE_NONROOT"
	// EnvImageArchive is the docker-archive file of EnvImage.
	EnvImageArchive = "PAUDE_TESTBED_IMAGE_TAR"
	// EnvNode is the name of the testbed's only node.
	EnvNode = "PAUDE_TESTBED_NODE"
	// EnvNodeIP is the node's address, where its host processes listen.
	EnvNodeIP = "PAUDE_TESTBED_NODE_IP"
	// EnvBin is the directory of the testbed binaries (kubectl among them).
	EnvBin = "PAUDE_TESTBED_BIN"
	// EnvNetns is the path of the testbed's network namespace.
	EnvNetns = "PAUDE_TESTBED_NETNS_PATH"
	// EnvCtl is hack/testbed/ctl.sh, which StopEnforcer and DropAPIServer run.
	EnvCtl = "PAUDE_TESTBED_CTL"
	// EnvDNS is the ClusterIP of the cluster DNS (kube-dns).
	EnvDNS = "PAUDE_TESTBED_DNS"
	// EnvStorageClass is the default StorageClass.
	EnvStorageClass = "PAUDE_TESTBED_STORAGE_CLASS"
	// EnvFakeIP and the other EnvFake* variables describe the fake
	// internet (see FakeInternet).
	EnvFakeIP         = "PAUDE_TESTBED_FAKE_IP"
	EnvFakePrivateIP  = "PAUDE_TESTBED_FAKE_PRIVATE_IP"
	EnvFakeMetadataIP = "PAUDE_TESTBED_FAKE_METADATA_IP"
	EnvFakeAllowed    = "PAUDE_TESTBED_FAKE_ALLOWED"
	EnvFakeBlocked    = "PAUDE_TESTBED_FAKE_BLOCKED"
	EnvFakePrivate    = "PAUDE_TESTBED_FAKE_PRIVATE"
	EnvFakeMetadata   = "PAUDE_TESTBED_FAKE_METADATA"
	EnvFakeAPINames   = "PAUDE_TESTBED_FAKE_API_NAMES"
	EnvFakeDNSLog     = "PAUDE_TESTBED_FAKE_DNS_LOG"
	EnvFakeHooks      = "PAUDE_TESTBED_FAKE_HOOKS"
	EnvFakeNetnsPath  = "PAUDE_TESTBED_FAKE_NETNS_PATH"
	EnvRequireAll     = "PAUDE_REQUIRE_ALL"
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
	// Registry is host:port of the registry as pods name images:
	// image-registry.openshift-image-registry.svc:5000, the in-cluster name
	// of OpenShift's integrated registry. The node pulls only with an
	// imagePullSecret (see PullSecret).
	Registry string
	// RegistryRoute is the registry's default route host, where clients
	// outside the cluster push on port 443 (it resolves through the
	// testbed's DNS; TLS from the testbed CA).
	RegistryRoute string
	// RegistryCertDir holds the testbed CA as ca.crt (podman --cert-dir).
	RegistryCertDir string
	// RegistryLog is the registry's request log (see RegistryLogCursor).
	RegistryLog string
	// CA is the testbed CA (PEM), issuer of every serving certificate.
	CA string
	// PKI is the directory of the testbed's keys and certificates.
	PKI string
	// User is the non-admin test user; it has no rights until a test
	// grants some (GrantUser).
	User string
	// UserKubeconfig is the user's kubeconfig, UserToken its bearer token.
	UserKubeconfig, UserToken string
	// Image is a local image with busybox and the probe helper (see
	// hack/testbed/mods/probe); pods must use PullPolicy Never for it.
	Image string
	// NonRootImage is Image with USER 65534 (for runAsNonRoot pods).
	NonRootImage string
	// ImageArchive is the docker-archive file Image was loaded from.
	ImageArchive string
	// Node is the name of the only node.
	Node string
	// NodeIP is the node's address: the API server, the registry (port
	// 443) and its token endpoint listen there.
	NodeIP string
	// BinDir holds the testbed binaries, kubectl among them.
	BinDir string
	// DNS is the ClusterIP of the cluster DNS; pods with the default
	// dnsPolicy, and test processes (hack/testbed/enter.sh), resolve
	// through it.
	DNS string
	// StorageClass is the default StorageClass (dynamic local volumes).
	StorageClass string
	// FakeInternet is the world outside the cluster.
	FakeInternet FakeInternet

	ctlScript string
}

var (
	current     *Cluster
	unavailable = "kubetest.Main was not called from TestMain"
)

// Main connects to the testbed, runs the tests and exits. Call it from
// TestMain. An unreachable testbed does not stop the run: Require then
// skips (or fails) each test with the reason.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit: it returns the tests' exit code, so that
// a TestMain can clean up after them.
func Run(m *testing.M) int {
	current, unavailable = connect()
	return m.Run()
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
	token, err := os.ReadFile(os.Getenv(EnvUserTokenFile))
	if err != nil {
		return nil, fmt.Sprintf("failed to read the test user's token (%s): %v: source the testbed's env file written by hack/testbed/up.sh", EnvUserTokenFile, err)
	}
	c := &Cluster{
		Kubeconfig:      path,
		Config:          cfg,
		Client:          client,
		Dynamic:         dyn,
		Registry:        os.Getenv(EnvRegistry),
		RegistryRoute:   os.Getenv(EnvRegistryRoute),
		RegistryCertDir: os.Getenv(EnvRegistryCertDir),
		RegistryLog:     os.Getenv(EnvRegistryLog),
		CA:              os.Getenv(EnvCA),
		PKI:             os.Getenv(EnvPKI),
		User:            os.Getenv(EnvUser),
		UserKubeconfig:  os.Getenv(EnvUserKubeconfig),
		UserToken:       strings.TrimSpace(string(token)),
		Image:           os.Getenv(EnvImage),
		NonRootImage:    os.Getenv(EnvImageNonRoot),
		ImageArchive:    os.Getenv(EnvImageArchive),
		Node:            os.Getenv(EnvNode),
		NodeIP:          os.Getenv(EnvNodeIP),
		BinDir:          os.Getenv(EnvBin),
		DNS:             os.Getenv(EnvDNS),
		StorageClass:    os.Getenv(EnvStorageClass),
		FakeInternet: FakeInternet{
			IP:         os.Getenv(EnvFakeIP),
			PrivateIP:  os.Getenv(EnvFakePrivateIP),
			MetadataIP: os.Getenv(EnvFakeMetadataIP),
			Allowed:    os.Getenv(EnvFakeAllowed),
			Blocked:    os.Getenv(EnvFakeBlocked),
			Private:    os.Getenv(EnvFakePrivate),
			Metadata:   os.Getenv(EnvFakeMetadata),
			APINames:   strings.Split(os.Getenv(EnvFakeAPINames), ","),
			DNSLog:     os.Getenv(EnvFakeDNSLog),
			hooks:      os.Getenv(EnvFakeHooks),
		},
		ctlScript: os.Getenv(EnvCtl),
	}
	for _, name := range []string{EnvRegistry, EnvRegistryRoute, EnvRegistryCertDir, EnvRegistryLog, EnvCA, EnvPKI,
		EnvUser, EnvUserKubeconfig, EnvImage, EnvImageNonRoot, EnvImageArchive, EnvNode, EnvNodeIP, EnvBin, EnvDNS,
		EnvStorageClass, EnvCtl, EnvFakeIP, EnvFakePrivateIP, EnvFakeMetadataIP, EnvFakeAllowed, EnvFakeBlocked,
		EnvFakePrivate, EnvFakeMetadata, EnvFakeAPINames, EnvFakeDNSLog, EnvFakeHooks} {
		if os.Getenv(name) == "" {
			return nil, name + " is not set: source the testbed's env file written by hack/testbed/up.sh"
		}
	}
	return c, ""
}
