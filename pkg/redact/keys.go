package redact

import (
	"strings"
	"unicode"
)

// The rule for password-like keys. A key is split into lower-case words at camelCase boundaries and at
// every character that is not a letter or digit (rootPwd -> root pwd, db_pass -> db pass,
// .dockerconfigjson -> dockerconfigjson). It names secret material when
//
//  1. a word, or two adjacent words joined, is in secretWords (pwd, pass, auth, token, secret, apikey,
//     accessKey, secretKey, tls.key, ssh-key, ...), or the key lower-cased holds one of secretParts (rootpassword,
//     dbpasswd, mysecrettoken);
//  2. unless it has more than one word and its last word only refers to a secret (referenceWords:
//     secretName, passwordKeyRef, tokenFile, authEnabled, --registry-password-stdin): those name or configure a secret, they do not
//     hold one.
//
// Under a sensitive key, every string and number of the tree is masked (auths: {reg: {auth: ...}}).
var (
	secretWords = set("password", "passwords", "passwd", "passwort", "pwd", "pass", "passphrase", "secret", "secrets",
		"token", "tokens", "credential", "credentials", "creds", "auth", "auths", "authorization", "apikey",
		"accesskey", "secretkey", "privatekey", "clientsecret", "sessiontoken", "identitytoken", "dockerconfigjson",
		"dockercfg", "jwt", "bearer", "htpasswd", "tlskey", "sshkey", "clientkey", "serverkey", "signingkey", "encryptionkey",
		"privatekeys")
	secretParts    = []string{"password", "passwd", "pwd", "secret", "token", "credential", "apikey", "accesskey", "privatekey"}
	referenceWords = set("name", "names", "ref", "enabled", "enable", "disabled", "file", "path", "dir", "namespace",
		"mount", "type", "length", "policy", "keyref", "selector", "provider", "ttl", "expiration", "expiry", "url", "endpoint", "stdin")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// IsSensitiveKey reports whether a values key (or the key of a key: value in text) names secret material,
// by the rule above.
func IsSensitiveKey(k string) bool {
	words := splitWords(k)
	if len(words) == 0 {
		return false
	}
	if len(words) > 1 && referenceWords[words[len(words)-1]] {
		return false
	}
	for i, w := range words {
		if secretWords[w] || (i > 0 && secretWords[words[i-1]+w]) {
			return true
		}
	}
	flat := strings.Join(words, "")
	for _, p := range secretParts {
		if strings.Contains(flat, p) {
			return true
		}
	}
	return false
}

// splitWords splits a key at camelCase boundaries (aB, ABc) and non-alphanumerics, lower-cased.
func splitWords(k string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(k)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}
