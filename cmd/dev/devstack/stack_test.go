package devstack

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/ferret"
	"littleecom.io/littleecom/internal/mongors"
)

// failFast starts a stack that must fail before the control plane, and returns the error.
func failFast(t *testing.T, cfg Config) error {
	t.Helper()
	cfg.Assets = t.TempDir() // never reached: these failures come first
	cfg.Log = &strings.Builder{}
	cfg.DataDir = ifEmpty(cfg.DataDir, t.TempDir())
	cfg.Addr = ifEmpty(cfg.Addr, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	s, err := Start(ctx, cfg)
	if err == nil {
		_ = s.Stop()
		t.Fatal("Start succeeded")
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("failing took %s; it must fail fast", took)
	}
	return err
}

func ifEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func TestStart_NamesTheGatewayPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	err = failFast(t, Config{Addr: l.Addr().String()})
	if !strings.Contains(err.Error(), "gateway: port "+l.Addr().String()+" is in use") || !strings.Contains(err.Error(), EnvAddr) {
		t.Fatalf("error = %v, want it to name the gateway's port and %s", err, EnvAddr)
	}
}

func TestStart_SecondStackOnTheSameDataFailsFast(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	err = failFast(t, Config{DataDir: dir})
	if !strings.Contains(err.Error(), "another make dev is already running") {
		t.Fatalf("error = %v", err)
	}
}

func TestStart_SaysHowToGetRabbitMQ(t *testing.T) {
	err := failFast(t, Config{AMQPAddr: addrNobodyListensOn(t)})
	if !errors.Is(err, errRabbitMQDown) || !strings.Contains(err.Error(), "hack/rabbitmq.sh start") {
		t.Fatalf("error = %v", err)
	}
}

// addrNobodyListensOn is the address of a listener that is closed again: fine for a broker
// that is down, because nothing binds it later (ports for servers come from internal/loopback).
func addrNobodyListensOn(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	return l.Addr().String()
}

func TestFerretReplicaSet_ReportsTheStandInHonestly(t *testing.T) {
	dir := t.TempDir()
	f, err := ferret.Start("127.0.0.1:0", dir, newPrefixWriter("ferretdb", &strings.Builder{}, new(sync.Mutex)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	rs := &ferretReplicaSet{addr: f.Addr(), uri: f.URI(), log: discardLogger()}
	defer rs.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := rs.Ensure(ctx, mongors.Target{Host: "shop-mongodb-0.shop-mongodb-headless.ns.svc.cluster.local:27017"},
		mongors.Desired{Topology: mongors.Topology{ReplicaSet: "rs0"}, Members: 3, Users: []mongors.User{{Name: "backend"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ready || res.Phase != mongors.PhaseReady || res.Initiated || res.Reconfigs != 0 || res.Message != StandInMessage {
		t.Errorf("result = %+v: want Ready, never initiated or reconfigured, saying it is a stand-in", res)
	}
	st := res.Status
	if len(st.Members) != 1 || st.Members[0].Name != f.Addr() || st.Primary != f.Addr() || st.Members[0].State != mongors.StatePrimary {
		t.Errorf("status = %+v, want one member named by FerretDB's address", st)
	}
	f.Stop()
	if res, err := rs.Ensure(ctx, mongors.Target{}, mongors.Desired{}); err == nil || res.Ready || res.Phase != mongors.PhaseUnreachable {
		t.Errorf("with FerretDB stopped: %+v, %v; want Unreachable", res, err)
	}
}
