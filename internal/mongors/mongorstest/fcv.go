package mongorstest

import (
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// defaultVersion is the release every member reports until the test sets another.
const defaultVersion = "7.0.0"

// keyVersion is the field buildInfo and the FCV document report the version in.
const keyVersion = "version"

// versionState is each member's binary release (buildInfo) and the set's feature
// compatibility version. What the double imitates of an upgrade: members report the version
// the test gives them (as if restarted on a new image); getParameter reports the FCV;
// setFeatureCompatibilityVersion is refused on a secondary (10107), without confirm: true
// from 7.0 on (mongod's code 7369100), and for a release some member does not run or that
// is not the next step from the current FCV (BadValue 2; mongod's exact codes differ). It
// does not imitate the transitional FCV states ("upgrading to 8.0") or a downgrade.
type versionState struct {
	versions map[string]string // by host; defaultVersion when absent
	fcv      string            // "" means the default version's major.minor
}

// SetVersion makes host report version in buildInfo, as if it was restarted on another image.
func (c *Cluster) SetVersion(host, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version.versions == nil {
		c.version.versions = map[string]string{}
	}
	c.version.versions[host] = version
}

// SetFeatureCompatibilityVersion sets the set's FCV, as if data had been created by another
// release.
func (c *Cluster) SetFeatureCompatibilityVersion(fcv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.fcv = fcv
}

// FeatureCompatibilityVersion returns the set's FCV.
func (c *Cluster) FeatureCompatibilityVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fcv()
}

// fcv returns the FCV. Callers hold mu.
func (c *Cluster) fcv() string {
	if c.version.fcv != "" {
		return c.version.fcv
	}
	return majorMinor(defaultVersion)
}

// versionOf returns host's release. Callers hold mu.
func (c *Cluster) versionOf(host string) string {
	if v, ok := c.version.versions[host]; ok {
		return v
	}
	return defaultVersion
}

func (c *Cluster) buildInfo(cn *conn) bson.D {
	v := c.versionOf(cn.node.host)
	arr := bson.A{}
	for p := range strings.SplitSeq(v, ".") {
		n, _ := strconv.Atoi(p)
		arr = append(arr, int32(n))
	}
	for len(arr) < 4 {
		arr = append(arr, int32(0))
	}
	return bson.D{{Key: keyVersion, Value: v}, {Key: "versionArray", Value: arr}}
}

// runVersionCommand answers getParameter and setFeatureCompatibilityVersion; ok is false for
// any other command. Callers hold mu.
func (c *Cluster) runVersionCommand(cn *conn, raw bson.Raw, name, lname string) (res bson.D, cerr *cmdErr, ok bool) {
	switch lname {
	case "getparameter":
		if _, err := raw.LookupErr("featureCompatibilityVersion"); err != nil {
			return nil, fail(2, "the double answers getParameter for featureCompatibilityVersion only"), true
		}
		return bson.D{{Key: "featureCompatibilityVersion", Value: bson.D{{Key: keyVersion, Value: c.fcv()}}}}, nil, true
	case "setfeaturecompatibilityversion":
		target, _ := raw.Lookup(name).StringValueOK()
		return nil, c.setFCV(cn.node.host, raw, target), true
	}
	return nil, nil, false
}

func (c *Cluster) setFCV(host string, raw bson.Raw, target string) *cmdErr {
	if c.cfg == nil || host != c.currentPrimary() {
		return fail(10107, "setFeatureCompatibilityVersion must run on the primary")
	}
	major, _ := strconv.Atoi(strings.SplitN(target, ".", 2)[0])
	if confirm, _ := raw.Lookup("confirm").BooleanOK(); major >= 7 && !confirm {
		return fail(2, "Once you have upgraded to "+target+", you will not be able to downgrade FCV and binary version "+
			"without support assistance. Please re-run this command with 'confirm: true' to acknowledge this")
	}
	for _, m := range c.members(c.cfg) {
		if v := majorMinor(c.versionOf(m.host)); v != target {
			return fail(2, fmt.Sprintf("cannot set featureCompatibilityVersion to %s: member %s runs %s", target, m.host, v))
		}
	}
	c.version.fcv = target
	return nil
}

func majorMinor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}
