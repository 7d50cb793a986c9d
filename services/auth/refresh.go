package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"littleecom.io/littleecom/services/auth/store"
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
func (s *Service) startFamily(ctx context.Context, u store.User) (string, error) {
	tok := newOpaqueToken()
	family := newOpaqueToken()[:22]
	now := s.now().UTC()
	err := s.store.InsertToken(ctx, store.RefreshToken{
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
func (s *Service) rotate(ctx context.Context, presented string) (store.User, string, error) {
	log := httpx.LoggerFrom(ctx)
	h := hashToken(presented)
	old, err := s.store.TokenByHash(ctx, h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, "", errBadRefresh
	case err != nil:
		return store.User{}, "", problem.Internal(err)
	}
	now := s.now().UTC()
	if !now.Before(old.ExpiresAt) {
		return store.User{}, "", errBadRefresh
	}
	if revoked, err := s.store.FamilyRevoked(ctx, old.Family); err != nil {
		return store.User{}, "", problem.Internal(err)
	} else if revoked {
		return store.User{}, "", errBadRefresh
	}
	u, err := s.store.UserByID(ctx, old.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, "", errBadRefresh
	case err != nil:
		return store.User{}, "", problem.Internal(err)
	}

	next := newOpaqueToken()
	err = s.store.InsertToken(ctx, store.RefreshToken{
		Hash:      hashToken(next),
		Parent:    h,
		Family:    old.Family,
		UserID:    old.UserID,
		ExpiresAt: now.Add(s.cfg.RefreshTokenTTL),
		CreatedAt: now,
	})
	if errors.Is(err, store.ErrDuplicate) {
		log.Warn("refresh token reused: revoking its family", "family", old.Family, "user_id", old.UserID.Hex())
		if err := s.store.RevokeFamily(ctx, old.Family, "reuse", now.Add(s.cfg.RefreshTokenTTL)); err != nil {
			return store.User{}, "", problem.Internal(err)
		}
		return store.User{}, "", errBadRefresh
	}
	if err != nil {
		return store.User{}, "", problem.Internal(err)
	}
	// A reuse detected by a concurrent request may have revoked the family between our
	// check and our insert; the revocation record is the authority, so look again.
	if revoked, err := s.store.FamilyRevoked(ctx, old.Family); err != nil {
		return store.User{}, "", problem.Internal(err)
	} else if revoked {
		return store.User{}, "", errBadRefresh
	}
	return u, next, nil
}

// revoke ends the family of a refresh token; an unknown token is not an error.
func (s *Service) revoke(ctx context.Context, presented, reason string) error {
	t, err := s.store.TokenByHash(ctx, hashToken(presented))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.RevokeFamily(ctx, t.Family, reason, s.now().UTC().Add(s.cfg.RefreshTokenTTL))
}
