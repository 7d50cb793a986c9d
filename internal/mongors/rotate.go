package mongors

import (
	"context"
	"errors"
)

// rootDB is where the root user lives.
const rootDB = "admin"

// rotateRoot changes root's password from target.PreviousPassword to target.Password, on
// the primary, logged in with the previous password: the one that still works. mongod's
// entrypoint creates root from its environment once, at the first start on an empty
// volume, so a changed Secret never reaches the database by itself. stop is true when
// Ensure must return r, err; otherwise r has RootPasswordChanged set.
//
// A set that is not initiated yet is first brought up with the previous password (writes
// need a primary); the next call rotates.
func rotateRoot(ctx context.Context, dialer Dialer, target Target, desired Desired, res Result) (r Result, err error, stop bool) {
	old := target
	old.Password, old.PreviousPassword = target.PreviousPassword, ""
	c, err := dialer.Dial(ctx, old)
	if err != nil {
		// Neither password works: someone changed root by hand, or the Secret before the
		// operator ever logged in. Only a person can tell which password is right.
		r, err := fail(res, errors.Join(errors.New("neither the Secret's root password nor the previous one is accepted"), err))
		return r, err, true
	}
	defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
	st, err := c.Status(ctx)
	if err != nil {
		r, err := failOrWait(res, err)
		return r, err, true
	}
	if !st.Initialized {
		r, err := Ensure(ctx, dialer, old, desired)
		if err == nil && r.Ready {
			r, err = notYet(r, PhaseReconfiguring, "replica set initiated with the previous root password; changing it to the Secret's next")
		}
		return r, err, true
	}
	if st, err = waitForPrimary(ctx, c, desired, st, ""); err != nil || st.Primary == "" {
		r, err := notYet(res, PhaseWaitingForPrimary, "root's password changed in the Secret; waiting for a primary to change it in MongoDB")
		return r, err, true
	}
	pc := c
	if self, ok := selfStatus(st); !ok || self.Name != st.Primary {
		pt := old
		pt.Host = st.Primary
		if pc, err = dialer.Dial(ctx, pt); err != nil {
			r, err := notYet(res, PhaseReconfiguring, "primary %s does not answer: %v", st.Primary, err)
			return r, err, true
		}
		defer func() { _ = pc.Close(context.WithoutCancel(ctx)) }()
	}
	err = pc.ChangePassword(ctx, rootDB, target.Username, target.Password)
	if e, ok := errors.AsType[*Error](err); ok && e.WriteConcern {
		err = nil // changed on the primary; it replicates
	}
	if err != nil {
		r, err := failOrWait(res, err)
		return r, err, true
	}
	res.RootPasswordChanged = true
	return res, nil, false
}
