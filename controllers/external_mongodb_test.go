package controllers

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/ferret"
)

const testSource = "Secret atlas, key uri"

// startFerretDB runs an embedded FerretDB for one test: a real MongoDB wire-protocol server.
func startFerretDB(t *testing.T) *ferret.Server {
	t.Helper()
	db, err := ferret.Start("127.0.0.1:0", t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Stop)
	return db
}

// TestExternalMongoDB_Check pings a real server (embedded FerretDB) the way the services
// connect, and sorts what goes wrong into reasons whose messages keep every secret out.
func TestExternalMongoDB_Check(t *testing.T) {
	db := startFerretDB(t)
	stopped := startFerretDB(t)
	stopped.Stop()
	const password = "s3cret-Passw0rd"
	e := ExternalMongoDB{Timeout: time.Second}
	tests := []struct {
		name   string
		conn   externalConnection
		reason string
		want   string // in the message
	}{
		{"answers", externalConnection{uri: db.URI()}, shopv1.ReasonExternalReachable, db.Addr()},
		// As config/cluster's shop names the node's FerretDB: one host, no options.
		{"answers a plain URI", externalConnection{uri: "mongodb://" + db.Addr() + "/"}, shopv1.ReasonExternalReachable, db.Addr()},
		// FerretDB v1 accepts PLAIN without checking the password: credentials in the URI work.
		{"credentials in the URI", externalConnection{
			uri: fmt.Sprintf("mongodb://shop:%s@%s/?directConnection=true&authMechanism=PLAIN", password, db.Addr()),
		}, shopv1.ReasonExternalReachable, db.Addr()},
		// ... and refuses SCRAM, the driver's default: a real refusal of the credentials.
		{"refused credentials from the Secret's keys", externalConnection{uri: db.URI(), username: "shop", password: password},
			shopv1.ReasonExternalAuthFailed, "refused the credentials of " + testSource},
		{"refused credentials in the URI", externalConnection{
			uri: fmt.Sprintf("mongodb://shop:%s@%s/?directConnection=true", password, db.Addr()),
		}, shopv1.ReasonExternalAuthFailed, "AuthenticationFailed"},
		{"nobody listens", externalConnection{uri: stopped.URI()}, shopv1.ReasonExternalUnreachable,
			"no primary of " + stopped.Addr() + " answered a ping within 1s"},
		{"not a MongoDB URI", externalConnection{uri: "https://" + password + "@example.com/"},
			shopv1.ReasonExternalSecretInvalid, `scheme must be "mongodb" or "mongodb+srv"`},
		{"a badly escaped password", externalConnection{uri: "mongodb://shop:" + password + "%zz@db.example.com/"},
			shopv1.ReasonExternalSecretInvalid, "the credentials in the URI are malformed"},
		{"a slash in the password", externalConnection{uri: "mongodb://shop:pa/" + password + "@db.example.com/"},
			shopv1.ReasonExternalSecretInvalid, "the credentials in the URI are malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := e.check(t.Context(), tt.conn, testSource)
			if obs.reason != tt.reason || !strings.Contains(obs.message, tt.want) {
				t.Errorf("got %s %q, want %s with %q", obs.reason, obs.message, tt.reason, tt.want)
			}
			if strings.Contains(obs.message, password) || strings.Contains(obs.message, tt.conn.uri) {
				t.Errorf("message %q reveals the password or the URI", obs.message)
			}
		})
	}
}

func TestExternalConnection_Redact(t *testing.T) {
	c := externalConnection{uri: "mongodb+srv://shop:p%40ss:w0rd@cluster0.example.net/?appName=x", password: "other-secret"}
	msg := c.redact("dialing mongodb+srv://shop:p%40ss:w0rd@cluster0.example.net/?appName=x as shop:p%40ss:w0rd " +
		"with p@ss:w0rd and other-secret at cluster0.example.net")
	for _, secret := range []string{"p%40ss", "p@ss", "w0rd", "other-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("redacted message %q still has %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "at cluster0.example.net") {
		t.Errorf("redacted message %q lost the host", msg)
	}
}

// TestExternalConnection_DNSFailureIsUnreachable: a mongodb+srv:// name that does not
// resolve fails while the URI is parsed, but the URI is fine: the database is unreachable.
func TestExternalConnection_DNSFailureIsUnreachable(t *testing.T) {
	err := fmt.Errorf("error parsing uri: %w", &net.DNSError{Err: "no such host", Name: "_mongodb._tcp.cluster0.example.net"})
	if obs := (externalConnection{}).invalidOrUnreachable(testSource, err); obs.reason != shopv1.ReasonExternalUnreachable {
		t.Errorf("got %s %q, want %s", obs.reason, obs.message, shopv1.ReasonExternalUnreachable)
	}
	if obs := (externalConnection{}).invalidOrUnreachable(testSource, errors.New("bad option")); obs.reason != shopv1.ReasonExternalSecretInvalid {
		t.Errorf("got %s, want %s", obs.reason, shopv1.ReasonExternalSecretInvalid)
	}
}

func TestExternalMongoDBCondition(t *testing.T) {
	tests := []struct {
		name    string
		obs     externalObservation
		failure error
		status  metav1.ConditionStatus
		reason  string
	}{
		{"not checked", externalObservation{}, nil, metav1.ConditionUnknown, shopv1.ReasonProgressing},
		{"reachable", externalObservation{shopv1.ReasonExternalReachable, "ok"}, nil, metav1.ConditionTrue, shopv1.ReasonExternalReachable},
		{"unreachable", externalObservation{shopv1.ReasonExternalUnreachable, "down"}, nil, metav1.ConditionFalse, shopv1.ReasonExternalUnreachable},
		{"secret missing", externalObservation{shopv1.ReasonExternalSecretMissing, "no"}, nil, metav1.ConditionFalse, shopv1.ReasonExternalSecretMissing},
		{"secret unreadable", externalObservation{}, errors.New("forbidden"), metav1.ConditionFalse, shopv1.ReasonReconcileFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := externalMongoDBCondition(tt.obs, tt.failure)
			if got.status != tt.status || got.reason != tt.reason {
				t.Errorf("got %s/%s, want %s/%s", got.status, got.reason, tt.status, tt.reason)
			}
		})
	}
}

// TestComponentConditions_ExternalLeavesOutTheReplicaSet: Ready of a shop with an external
// database does not wait for a replica set the operator does not run.
func TestComponentConditions_ExternalLeavesOutTheReplicaSet(t *testing.T) {
	inCluster := componentConditions(&shopv1.LittleEcom{})
	shop := &shopv1.LittleEcom{}
	shop.Spec.MongoDB.External = &shopv1.ExternalMongoDBSpec{SecretRef: shopv1.SecretReference{Name: "atlas"}}
	external := componentConditions(shop)
	want := slices.DeleteFunc(slices.Clone(inCluster), func(c string) bool { return c == shopv1.ConditionReplicaSetInitialized })
	if !slices.Equal(external, want) || len(want) != len(inCluster)-1 {
		t.Errorf("componentConditions = %v, want %v (the in-cluster ones without %s)",
			external, want, shopv1.ConditionReplicaSetInitialized)
	}
}
