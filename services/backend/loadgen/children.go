package loadgen

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"littleecom.io/littleecom/internal/ferret"
	"littleecom.io/littleecom/services/backend"
)

// Child modes: the first argument of a re-executed copy.
const (
	modeFerretDB = "child-ferretdb" // args: addr dir idindex(on|off) [cpuprofile]
	modeBackend  = "child-backend"  // configuration from the environment, like cmd/backend
)

// runChild runs a child mode until ctx is done (SIGTERM). handled is false for other args.
func runChild(ctx context.Context, args []string) (handled bool, err error) {
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case modeFerretDB:
		if len(args) < 4 {
			return true, fmt.Errorf("usage: %s addr dir on|off [cpuprofile]", modeFerretDB)
		}
		if len(args) == 5 {
			stop, err := profile(args[4])
			if err != nil {
				return true, err
			}
			defer stop()
		}
		if args[3] == "on" {
			// As make dev's FerretDB: the _id lookup index on every collection (idindex.go).
			return true, ferret.Run(ctx, args[1], args[2], os.Stderr)
		}
		return true, ferret.RunWithoutIDIndexes(ctx, args[1], args[2], os.Stderr)
	case modeBackend:
		if len(args) == 2 { // a CPU profile of the backend alone
			stop, err := profile(args[1])
			if err != nil {
				return true, err
			}
			defer stop()
		}
		return true, backend.Main(ctx)
	}
	return false, nil
}

// profile writes a CPU profile to path until stop is called.
func profile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
