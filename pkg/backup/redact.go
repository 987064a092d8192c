package backup

import "github.com/skoala-dev/kubectl-skoala/pkg/redact"

// RedactValues returns a copy of v safe to share. It is redact.Values (the one redactor); it stays for the
// callers that still name it.
func RedactValues(v map[string]any) map[string]any { return redact.Values(v) }
