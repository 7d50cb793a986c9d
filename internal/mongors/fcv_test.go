package mongors_test

import (
	"context"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

func TestFCVTarget(t *testing.T) {
	cases := []struct {
		name     string
		fcv      string
		versions []string
		raise    bool
		to       string
		reason   string
	}{
		{"all on the FCV's release", "7.0", []string{"7.0.14", "7.0.2", "7.0.0"}, false, "", ""},
		{"all on the next major", "7.0", []string{"8.0.4", "8.0.4", "8.0.1"}, true, "8.0", ""},
		{"one member still old", "7.0", []string{"8.0.4", "7.0.14", "8.0.4"}, false, "", "different releases"},
		{"FCV ahead of binaries", "8.0", []string{"7.0.14"}, false, "", "ahead"},
		{"release candidate", "6.0", []string{"7.0.0-rc1"}, true, "7.0", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step, err := mongors.FCVTarget(tc.fcv, tc.versions)
			if err != nil {
				t.Fatal(err)
			}
			if step.Raise != tc.raise || (tc.raise && step.Running.String() != tc.to) {
				t.Errorf("step = %+v, want raise=%v to %s", step, tc.raise, tc.to)
			}
			if !strings.Contains(step.Reason, tc.reason) {
				t.Errorf("reason %q, want it to mention %q", step.Reason, tc.reason)
			}
		})
	}
	if _, err := mongors.FCVTarget("7", []string{"7.0.1"}); err == nil {
		t.Error("an FCV without a minor version must be refused")
	}
}

// TestVersionClient_AgainstTheDouble runs buildInfo, getParameter and
// setFeatureCompatibilityVersion through the driver against mongorstest, which imitates
// mongod's rules for them (primary only, confirm from 7.0, every member on the release).
func TestVersionClient_AgainstTheDouble(t *testing.T) {
	rs, dialer, target := startRS(t, 3, mongorstest.Options{})
	ctx := context.Background()
	if _, err := mongors.Ensure(ctx, dialer, target, desired(3)); err != nil {
		t.Fatal(err)
	}
	primary := rs.Primary()
	if primary == "" {
		t.Fatal("no primary after Ensure")
	}
	dial := func(host string) mongors.VersionClient {
		tg := target
		tg.Host = host
		c, err := dialer.Dial(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(ctx) })
		return c.(mongors.VersionClient)
	}
	pc := dial(primary)
	if fcv, err := pc.FeatureCompatibilityVersion(ctx); err != nil || fcv != "7.0" {
		t.Fatalf("FCV = %q, %v; want 7.0", fcv, err)
	}
	for _, h := range hosts(3) {
		if h != primary {
			rs.SetVersion(h, "8.0.4")
		}
	}
	if err := pc.SetFeatureCompatibilityVersion(ctx, "8.0"); err == nil {
		t.Fatal("FCV 8.0 accepted while the primary still runs 7.0")
	}
	rs.SetVersion(primary, "8.0.4")
	if v, err := pc.BuildVersion(ctx); err != nil || v != "8.0.4" {
		t.Fatalf("BuildVersion = %q, %v", v, err)
	}
	secondary := hosts(3)[0]
	if secondary == primary {
		secondary = hosts(3)[1]
	}
	if err := dial(secondary).SetFeatureCompatibilityVersion(ctx, "8.0"); !mongors.HasCode(err, mongors.CodeNotWritablePrimary) {
		t.Fatalf("on a secondary: %v, want NotWritablePrimary", err)
	}
	if err := pc.SetFeatureCompatibilityVersion(ctx, "8.0"); err != nil {
		t.Fatal(err)
	}
	if rs.FeatureCompatibilityVersion() != "8.0" {
		t.Errorf("FCV = %s after setFeatureCompatibilityVersion 8.0", rs.FeatureCompatibilityVersion())
	}
	cmds := rs.Commands("setFeatureCompatibilityVersion")
	last := cmds[len(cmds)-1].Doc
	if c, ok := last.Lookup("confirm").BooleanOK(); !ok || !c {
		t.Errorf("setFeatureCompatibilityVersion to 8.0 must send confirm: true, sent %s", last)
	}
}
