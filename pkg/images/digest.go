package images

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Digest asks the registry of ref for the digest its tag (or digest) points at now, with the options'
// credentials and TLS settings ('verify' compares it with the pods' digests). Errors name no password.
func (o RegistryOptions) Digest(ctx context.Context, ref string) (string, error) {
	r, err := o.ParseRef(ref)
	if err != nil {
		return "", err
	}
	opts, err := o.remoteOptions(ctx)
	if err != nil {
		return "", err
	}
	head, err := remote.Head(r, opts...)
	if err != nil {
		if isNotFound(err) {
			return "", errors.New("not in the registry")
		}
		if code, ok := isStatus(err, 401, 403); ok {
			return "", &AuthError{Registry: r.Context().RegistryStr(), User: o.userOf(r.Context().Registry), Status: code}
		}
		return "", fmt.Errorf("%s", o.errLine(err))
	}
	return head.Digest.String(), nil
}
