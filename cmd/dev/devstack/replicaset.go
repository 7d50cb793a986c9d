package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/mongors"
)

// StandInMessage says, in the operator's status, what the replica set really is under make dev.
const StandInMessage = "standalone FerretDB stand-in (make dev)"

// ferretReplicaSet is the operator's ReplicaSetManager under make dev. FerretDB has no
// replica-set commands (replSetInitiate, replSetGetStatus: CommandNotFound), so it initiates
// nothing: it pings the local FerretDB and reports exactly that, one standalone member named
// by its local address. It never claims to have initiated or reconfigured anything, and the
// services' users are not created (FerretDB v1 has no createUser; see mapEnv).
type ferretReplicaSet struct {
	addr string // FerretDB's host:port
	uri  string // FerretDB's URI (ferret.Server.URI)
	log  *slog.Logger

	once, logOnce sync.Once
	client        *mongo.Client
	err           error
}

var _ controllers.ReplicaSetManager = (*ferretReplicaSet)(nil)

// Ensure implements controllers.ReplicaSetManager.
func (f *ferretReplicaSet) Ensure(ctx context.Context, target mongors.Target, desired mongors.Desired) (mongors.Result, error) {
	f.logOnce.Do(func() {
		f.log.Info("the replica set is a standalone FerretDB stand-in: replSetInitiate is not run",
			"operator_target", target.Host, "ferretdb", f.addr, "desired_members", desired.Members)
	})
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := f.ping(pctx); err != nil {
		err = fmt.Errorf("FerretDB stand-in at %s does not answer: %w", f.addr, err)
		return mongors.Result{Phase: mongors.PhaseUnreachable, Message: err.Error()}, err
	}
	if len(desired.Users) > 0 {
		f.log.Info("not creating the services' MongoDB users: FerretDB v1 has no createUser and does not check credentials",
			"users", len(desired.Users))
	}
	return mongors.Result{
		Ready:   true,
		Phase:   mongors.PhaseReady,
		Message: StandInMessage,
		Status: mongors.Status{
			Initialized: true,
			SetName:     desired.ReplicaSet,
			Primary:     f.addr,
			Members:     []mongors.MemberStatus{{ID: 0, Name: f.addr, State: mongors.StatePrimary, Health: true, Self: true}},
		},
	}, nil
}

// ping checks that FerretDB answers.
func (f *ferretReplicaSet) ping(ctx context.Context) error {
	f.connect()
	if f.err != nil {
		return f.err
	}
	return f.client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func (f *ferretReplicaSet) connect() {
	f.once.Do(func() {
		f.client, f.err = mongo.Connect(options.Client().
			ApplyURI(f.uri).
			SetServerSelectionTimeout(3 * time.Second).SetAppName("littleecom-dev-replicaset"))
	})
}

func (f *ferretReplicaSet) close() {
	if f.client != nil {
		_ = f.client.Disconnect(context.Background())
	}
}
