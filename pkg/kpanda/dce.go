package kpanda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// DCE is the kpanda API of a DCE 5.0 platform, called with the user's own access token.
type DCE struct {
	// URL is the platform's address (https, or http to a loopback address).
	URL *url.URL
	// Token is the user's DCE access token (sent as a bearer token; never printed).
	Token string
	// Client sends the requests (http.DefaultClient when nil).
	Client *http.Client
}

// ParseURL checks --dce-url: https, or plain http only to a loopback address (a token never crosses a
// network in clear text).
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--dce-url %q is not a URL such as https://dce.example.com", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("--dce-url must not hold credentials: give the token with --dce-token-file")
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return u, nil
		}
		return nil, fmt.Errorf("--dce-url %s is plain http to a non-loopback address: use https", u.Redacted())
	}
	return nil, fmt.Errorf("--dce-url %q must be https", s)
}

// APIError is an answer of the kpanda API other than 200 (its body is not kept: it may echo a credential).
type APIError struct {
	Cluster string
	Code    int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("the kpanda API answered %d for the kubeconfig of cluster %s", e.Code, e.Cluster)
}

// Hint says what to do.
func (e *APIError) Hint() string {
	switch e.Code {
	case http.StatusUnauthorized:
		return "the DCE access token of --dce-token-file is wrong or expired: create one in DCE (Personal Center > Access Keys)"
	case http.StatusForbidden:
		return "your DCE user may not get this cluster's kubeconfig: ask for the cluster's rights in DCE"
	case http.StatusNotFound:
		return "check --dce-url (the platform's address) and that kpanda knows the cluster"
	}
	return "check --dce-url and the platform"
}

// Kubeconfig gets a cluster's kubeconfig: GET /apis/kpanda.io/v1alpha1/clusters/{cluster}/kubeconfig,
// answered with {"kubeConfigString": "..."}. The kubeconfig is returned in memory; no error holds it.
func (d *DCE) Kubeconfig(ctx context.Context, cluster string) ([]byte, error) {
	u := *d.URL
	u.Path = strings.TrimRight(u.Path, "/") + "/apis/kpanda.io/v1alpha1/clusters/" + url.PathEscape(cluster) + "/kubeconfig"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.Token)
	req.Header.Set("Accept", "application/json")
	hc := d.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("kpanda API %s: %w", u.Redacted(), ue.Err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the kpanda API's answer for cluster %s: %w", cluster, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{Cluster: cluster, Code: resp.StatusCode}
	}
	var out struct {
		KubeConfigString string `json:"kubeConfigString"`
	}
	if json.Unmarshal(body, &out) != nil || strings.TrimSpace(out.KubeConfigString) == "" {
		return nil, fmt.Errorf("the kpanda API's answer for cluster %s holds no kubeConfigString", cluster)
	}
	return []byte(out.KubeConfigString), nil
}
