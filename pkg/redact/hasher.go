package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// Hasher masks secrets with a keyed digest instead of the plain mask, for diffs: within one run the same
// secret always shows the same digest (so a diff says which secret changed), but the key is random per
// Hasher and never leaves the process, so whoever reads a shared diff cannot confirm a guessed password by
// hashing it (as an unkeyed sha256 would let them).
type Hasher struct{ key []byte }

// NewHasher returns a Hasher with a fresh random 32-byte key.
func NewHasher() *Hasher {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("redact: no randomness for the per-run key: " + err.Error()) // crypto/rand never fails on Linux
	}
	return &Hasher{key: k}
}

// Sum is what output shows for secret: Mask followed by 12 hex digits of HMAC-SHA256(key, secret),
// e.g. "******(hmac:1f2e3d4c5b6a)".
func (h *Hasher) Sum(secret string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(secret))
	return Mask + "(hmac:" + hex.EncodeToString(m.Sum(nil))[:12] + ")"
}

// String is String with each secret shown as Sum.
func (h *Hasher) String(s string) string { return maskText(s, h.Sum) }

// Values is Values with each secret shown as Sum.
func (h *Hasher) Values(v map[string]any) map[string]any { return maskValues(v, h.Sum) }

// Scrub is Scrub with each secret shown as Sum.
func (h *Hasher) Scrub(s string, secrets []string) string { return scrubWith(s, secrets, h.Sum) }
