package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
)

// ConfigError says the kubeconfig could not be loaded or used.
type ConfigError struct {
	Context string
	Err     error
}

func (e *ConfigError) Error() string {
	msg := e.Err.Error()
	if clientcmd.IsEmptyConfig(e.Err) {
		msg = "no kubeconfig found (looked at --kubeconfig, $KUBECONFIG and ~/.kube/config)"
	}
	if e.Context != "" {
		return fmt.Sprintf("kubeconfig context %q: %s", e.Context, firstLine(msg))
	}
	return "kubeconfig: " + firstLine(msg)
}
func (e *ConfigError) Unwrap() error { return e.Err }

// UnknownContextError says a context is not in the kubeconfig.
type UnknownContextError struct{ Context string }

func (e *UnknownContextError) Error() string {
	return fmt.Sprintf("context %q not found in the kubeconfig", e.Context)
}

// Explain turns an error from talking to a cluster into one line and a hint. verb and resource say what was
// being done ("list", "secrets in skoala-system"), so a 403 names what was refused.
func Explain(err error, verb, resource string) (msg, hint string) {
	if err == nil {
		return "", ""
	}
	var uc *UnknownContextError
	if errors.As(err, &uc) {
		return uc.Error(), "list the contexts with 'kubectl config get-contexts'"
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return firstLine(err.Error()), h.Hint()
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Error(), "check --kubeconfig / $KUBECONFIG (kubectl config view)"
	}
	switch {
	case apierrors.IsUnauthorized(err):
		return "unauthorized (401): the cluster rejected the credentials", "your token or certificate is wrong or expired: log in again and check 'kubectl auth whoami'"
	case apierrors.IsForbidden(err):
		what := strings.TrimSpace(verb + " " + resource)
		return fmt.Sprintf("forbidden (403): not allowed to %s", what), fmt.Sprintf("ask for the rights in hack/rbac (check with 'kubectl auth can-i %s')", strings.Fields(verb + " x")[0]+" "+firstWord(resource))
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timed out talking to the cluster", "check the network path to the API server, or raise --request-timeout / --timeout"
	case errors.Is(err, context.Canceled):
		return "interrupted", ""
	case isConnRefused(err):
		return joinColon("connection refused", serverOf(err)), "is the API server up? check the cluster address in the kubeconfig"
	case isDNS(err):
		return joinColon("cannot resolve the API server host", serverOf(err)), "check the server address in the kubeconfig and your DNS"
	}
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("the API server answered %d: %s", se.ErrStatus.Code, firstLine(se.ErrStatus.Message)), ""
	}
	return firstLine(err.Error()), ""
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout exceeded") || strings.Contains(err.Error(), "i/o timeout") || strings.Contains(err.Error(), "TLS handshake timeout")
}

func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

func isDNS(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

func serverOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return u.Host
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func joinColon(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}
