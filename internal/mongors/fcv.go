package mongors

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// VersionClient reads a member's release and the set's feature compatibility version (FCV),
// and raises the FCV after an upgrade. The driver's Client implements it; it is a separate
// interface so that the replica-set Client stays what Ensure needs.
//
// MongoDB upgrades one major release at a time: every member must run release N before the
// FCV may be set to N, and a member of release N+1 starts only on data whose FCV is N. So an
// image change of the members is: restart every member on the new binary (the FCV still the
// old one, which the new binary accepts), then set the FCV on the primary.
type VersionClient interface {
	// BuildVersion runs buildInfo and returns version, e.g. "7.0.14".
	BuildVersion(ctx context.Context) (string, error)
	// FeatureCompatibilityVersion runs getParameter featureCompatibilityVersion and returns
	// its version, e.g. "7.0".
	FeatureCompatibilityVersion(ctx context.Context) (string, error)
	// SetFeatureCompatibilityVersion runs setFeatureCompatibilityVersion on the primary,
	// with confirm: true from 7.0 on (mongod refuses the command without it there).
	SetFeatureCompatibilityVersion(ctx context.Context, version string) error
}

var _ VersionClient = (*driverClient)(nil)

func (c *driverClient) BuildVersion(ctx context.Context) (string, error) {
	var raw struct {
		Version string `bson:"version"`
	}
	if err := c.run(ctx, "buildInfo", bson.D{{Key: "buildInfo", Value: 1}}, &raw); err != nil {
		return "", err
	}
	return raw.Version, nil
}

func (c *driverClient) FeatureCompatibilityVersion(ctx context.Context) (string, error) {
	var raw struct {
		FCV struct {
			Version string `bson:"version"`
		} `bson:"featureCompatibilityVersion"`
	}
	err := c.run(ctx, "getParameter", bson.D{
		{Key: "getParameter", Value: 1},
		{Key: "featureCompatibilityVersion", Value: 1},
	}, &raw)
	if err != nil {
		return "", err
	}
	return raw.FCV.Version, nil
}

func (c *driverClient) SetFeatureCompatibilityVersion(ctx context.Context, version string) error {
	cmd := bson.D{{Key: "setFeatureCompatibilityVersion", Value: version}}
	if v, err := ParseRelease(version); err == nil && v.Major >= 7 {
		cmd = append(cmd, bson.E{Key: "confirm", Value: true})
	}
	return c.run(ctx, "setFeatureCompatibilityVersion", cmd, nil)
}

// Release is a MongoDB major.minor release, the unit of the FCV.
type Release struct{ Major, Minor int }

func (r Release) String() string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

// Less orders releases.
func (r Release) Less(o Release) bool {
	return r.Major < o.Major || (r.Major == o.Major && r.Minor < o.Minor)
}

// ParseRelease reads the major.minor of a version such as 7.0, 7.0.14 or 8.0.0-rc1.
func ParseRelease(version string) (Release, error) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return Release{}, fmt.Errorf("version %q is not major.minor[.patch]", version)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err := errors.Join(err1, err2); err != nil || major < 0 || minor < 0 {
		return Release{}, fmt.Errorf("version %q is not major.minor[.patch]", version)
	}
	return Release{Major: major, Minor: minor}, nil
}

// FCVStep is what FCVTarget decided.
type FCVStep struct {
	// Current is the set's FCV, Running the release every member runs.
	Current, Running Release
	// Raise is true when the FCV should be set to Running.
	Raise bool
	// Reason explains why not, when the members disagree or the FCV is ahead.
	Reason string
}

// FCVTarget decides whether the set's FCV can be raised: only when every member runs the
// same release, and that release is newer than the FCV. Members on different releases mean
// a restart is still under way (or an image was changed by hand): wait. An FCV newer than
// the binaries cannot happen on a set that runs (mongod would not start); it is reported.
func FCVTarget(fcv string, versions []string) (FCVStep, error) {
	cur, err := ParseRelease(fcv)
	if err != nil {
		return FCVStep{}, fmt.Errorf("feature compatibility version: %w", err)
	}
	step := FCVStep{Current: cur}
	for i, v := range versions {
		r, err := ParseRelease(v)
		if err != nil {
			return FCVStep{}, err
		}
		if i > 0 && r != step.Running {
			step.Reason = fmt.Sprintf("members run different releases (%s and %s)", step.Running, r)
			return step, nil
		}
		step.Running = r
	}
	switch {
	case len(versions) == 0:
		step.Reason = "no members"
	case cur.Less(step.Running):
		step.Raise = true
	case step.Running.Less(cur):
		step.Reason = fmt.Sprintf("feature compatibility version %s is ahead of the members' release %s", cur, step.Running)
	}
	return step, nil
}
