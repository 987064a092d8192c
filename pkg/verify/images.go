package verify

import (
	"context"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ImageConfig is how images are compared with their registry.
type ImageConfig struct {
	// Digest asks the registry for the digest of a reference now ("" and an error when it cannot).
	Digest func(ctx context.Context, ref string) (string, error)
	// Pushed are the digests 'images push' recorded, by reference (nil: none recorded).
	Pushed map[string]string
}

var podResource = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// images compares, for each container of the release's workloads, the image the chart renders with the
// one running, the pods' digest with the registry's, and the registry's with the one 'images push' recorded.
func (v *releaseVerify) images(ctx context.Context) {
	if v.cfg.Images == nil {
		return
	}
	for _, mo := range v.hr.Objects() {
		if len(mo.Containers) == 0 {
			continue
		}
		ref := mo.Kind + "/" + mo.Name
		live := v.live[ref]
		if live == nil {
			continue // missing or unreadable: drift says so
		}
		running := containerImages(live)
		statuses, podsErr := v.podImages(ctx, live)
		for _, c := range mo.Containers {
			im := Image{Workload: ref, Container: c.Name, Chart: c.Image, Running: running[c.Name], State: ImageSame}
			switch {
			case im.Running == "":
				im.State, im.Detail = ImageDiffers, "the live workload has no such container"
			case im.Running != im.Chart:
				im.State, im.Detail = ImageDiffers, "the live workload runs another image than the chart renders"
			}
			if podsErr != nil {
				v.skip("image digests of "+ref, "list", "pods", v.cfg.Namespace, podsErr)
			} else if d, ok := statuses[c.Name]; ok {
				im.RunningDigest = d // "" when the runtime reports no imageID
			} else if im.State == ImageSame {
				im.State, im.Detail = ImageNotRunning, "no pod of the workload runs it"
			}
			if im.Running != "" && v.cfg.Images.Digest != nil {
				d, err := v.cfg.Images.Digest(ctx, im.Running)
				if err != nil {
					if im.State == ImageSame {
						im.State = ImageUnknownDigest
					}
					im.Detail = joinDetail(im.Detail, "registry: "+err.Error())
				} else {
					im.RegistryDigest = d
				}
			}
			im.PushedDigest = v.cfg.Images.Pushed[im.Running]
			switch {
			case im.State != ImageSame:
			case im.PushedDigest != "" && im.RegistryDigest != "" && im.PushedDigest != im.RegistryDigest:
				im.State, im.Detail = ImageTagMoved, "the tag was pushed again since 'images push' recorded it"
			case im.RunningDigest != "" && im.RegistryDigest != "" && im.RunningDigest != im.RegistryDigest:
				im.State, im.Detail = ImageDigestDiffers, "the pods run another digest than the registry's tag"
			}
			v.rel.Images = append(v.rel.Images, im)
		}
	}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// containerImages are the images of a live workload's pod template, by container name.
func containerImages(obj map[string]any) map[string]string {
	out := map[string]string{}
	spec, _ := obj["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	ps, _ := tmpl["spec"].(map[string]any)
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := ps[key].([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			n, _ := m["name"].(string)
			im, _ := m["image"].(string)
			if n != "" {
				out[n] = im
			}
		}
	}
	return out
}

// podImages reads the digests the workload's pods run (status imageID), by container name.
func (v *releaseVerify) podImages(ctx context.Context, live map[string]any) (map[string]string, error) {
	spec, _ := live["spec"].(map[string]any)
	sel, _ := spec["selector"].(map[string]any)
	ml, _ := sel["matchLabels"].(map[string]any)
	set := labels.Set{}
	for k, x := range ml {
		if s, ok := x.(string); ok {
			set[k] = s
		}
	}
	out := map[string]string{}
	if len(set) == 0 {
		return out, nil
	}
	pods, err := v.rd.List(ctx, podResource, v.cfg.Namespace, set.AsSelector().String())
	if err != nil {
		return nil, err
	}
	sort.Slice(pods, func(i, j int) bool { return str(pods[i], "metadata", "name") < str(pods[j], "metadata", "name") })
	for _, p := range pods {
		st, _ := p["status"].(map[string]any)
		for _, key := range []string{"initContainerStatuses", "containerStatuses"} {
			list, _ := st[key].([]any)
			for _, x := range list {
				m, _ := x.(map[string]any)
				n, _ := m["name"].(string)
				id, _ := m["imageID"].(string)
				if d := digestOf(id); d != "" || out[n] == "" {
					out[n] = d // the first pod's digest; "" while no pod reports one
				}
			}
		}
	}
	return out, nil
}

// digestOf takes the digest out of an imageID ("docker-pullable://repo@sha256:…", "repo@sha256:…").
func digestOf(id string) string {
	if i := strings.LastIndex(id, "@"); i >= 0 {
		return id[i+1:]
	}
	if strings.HasPrefix(id, "sha256:") {
		return id
	}
	return ""
}
