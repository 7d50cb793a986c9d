package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

// Refresh tokens are opaque random strings; the database keeps only their SHA-256. Each use
// rotates the token: the successor is inserted with parent = the used token's hash under a
// unique index, so of two uses of one token exactly one inserts (on FerretDB too, where a
// conditional update would not be atomic). The loser is a reuse — a stolen token or a
// replay — and revokes the whole family, the legitimate holder's current token included.

func newOpaqueToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// startFamily issues the first refresh token of a new family (one per sign-in).
func (s *Service) startFamily(ctx context.Context, u user) (string, error) {
	tok := newOpaqueToken()
	family := newOpaqueToken()[:22]
	now := s.now().UTC()
	err := s.store.insertToken(ctx, refreshToken{
		Hash:      hashToken(tok),
		Parent:    "root:" + family,
		Family:    family,
		UserID:    u.ID,
		ExpiresAt: now.Add(s.cfg.RefreshTokenTTL),
		CreatedAt: now,
	})
	if err != nil {
		return "", fmt.Errorf("start refresh token family: %w", err)
	}
	return tok, nil
}

var errBadRefresh = problem.Unauthorizedf("invalid or expired refresh token")

// rotate exchanges a refresh token for its successor.
func (s *Service) rotate(ctx context.Context, presented string) (user, string, error) {
	log := httpx.LoggerFrom(ctx)
	h := hashToken(presented)
	old, err := s.store.tokenByHash(ctx, h)
	switch {
	case errors.Is(err, errNotFound):
		return user{}, "", errBadRefresh
	case err != nil:
		return user{}, "", problem.Internal(err)
	}
	now := s.now().UTC()
	if !now.Before(old.ExpiresAt) {
		return user{}, "", errBadRefresh
	}
	if revoked, err := s.store.familyRevoked(ctx, old.Family); err != nil {
		return user{}, "", problem.Internal(err)
	} else if revoked {
		return user{}, "", errBadRefresh
	}
	u, err := s.store.userByID(ctx, old.UserID)
	switch {
	case errors.Is(err, errNotFound): // account deleted
		return user{}, "", errBadRefresh
	case err != nil:
		return user{}, "", problem.Internal(err)
	}

	next := newOpaqueToken()
	err = s.store.insertToken(ctx, refreshToken{
		Hash:      hashToken(next),
		Parent:    h,
		Family:    old.Family,
		UserID:    old.UserID,
		ExpiresAt: now.Add(s.cfg.RefreshTokenTTL),
		CreatedAt: now,
	})
	if errors.Is(err, errDuplicate) {
		log.Warn("refresh token reused: revoking its family", "family", old.Family, "user_id", old.UserID.Hex())
		if err := s.store.revokeFamily(ctx, old.Family, "reuse", now.Add(s.cfg.RefreshTokenTTL)); err != nil {
			return user{}, "", problem.Internal(err)
		}
		return user{}, "", errBadRefresh
	}
	if err != nil {
		return user{}, "", problem.Internal(err)
	}
	// A reuse detected by a concurrent request may have revoked the family between our
	// check and our insert; the revocation record is the authority, so look again.
	if revoked, err := s.store.familyRevoked(ctx, old.Family); err != nil {
		return user{}, "", problem.Internal(err)
	} else if revoked {
		return user{}, "", errBadRefresh
	}
	return u, next, nil
}

// revoke ends the family of a refresh token; an unknown token is not an error.
func (s *Service) revoke(ctx context.Context, presented, reason string) error {
	t, err := s.store.tokenByHash(ctx, hashToken(presented))
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.revokeFamily(ctx, t.Family, reason, s.now().UTC().Add(s.cfg.RefreshTokenTTL))
}
