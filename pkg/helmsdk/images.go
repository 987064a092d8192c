package helmsdk

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
)

// ChartFile is one file of a chart, by its path relative to the chart's root ("Chart.yaml",
// "templates/x.yaml", "charts/sub/values.yaml").
type ChartFile struct {
	Name string
	Data []byte
}

// LoadChartFiles loads a chart from its files (such as the original-chart/ folder read out of an offline
// bundle). source says where they came from, for messages.
func LoadChartFiles(source string, files []ChartFile) (*Chart, error) {
	load := func() (*chart.Chart, error) {
		bf := make([]*archive.BufferedFile, 0, len(files))
		for _, f := range files {
			bf = append(bf, &archive.BufferedFile{Name: f.Name, Data: f.Data})
		}
		return loader.LoadFiles(bf)
	}
	ch, err := load()
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", source, err)
	}
	c := fromChart(ch, source)
	c.reload = load
	return c, nil
}

// RenderedImage is one container image of a chart rendered client-side.
type RenderedImage struct {
	// Template is the chart file the workload came from ("skoala/templates/hive.yaml").
	Template  string `json:"template"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Container string `json:"container"`
	Image     string `json:"image"`
}

// RenderImages renders the chart with values (as `helm template` does, with Helm's default capabilities)
// as release name in namespace, and returns the image of every container and init container of its
// workloads, sorted by template, object and container. Hooks are included: their images are pulled too.
func RenderImages(ch *Chart, values map[string]any, name, namespace string) ([]RenderedImage, error) {
	raw := copyChart(ch)
	vals := deepCopy(values)
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependencies(raw, vals); err != nil {
		return nil, fmt.Errorf("processing the dependencies of %s %s: %w", ch.Name, ch.Version, err)
	}
	rv, err := commonutil.ToRenderValues(raw, vals, common.ReleaseOptions{Name: name, Namespace: namespace, IsUpgrade: true, Revision: 2}, common.DefaultCapabilities.Copy())
	if err != nil {
		return nil, fmt.Errorf("rendering %s %s: %w", ch.Name, ch.Version, err)
	}
	files, err := engine.Render(raw, rv)
	if err != nil {
		return nil, fmt.Errorf("rendering %s %s: %s", ch.Name, ch.Version, firstLine(err.Error()))
	}
	var out []RenderedImage
	for file, body := range files {
		if path.Ext(file) != ".yaml" && path.Ext(file) != ".yml" {
			continue
		}
		if strings.TrimSpace(body) == "" {
			continue
		}
		for _, mo := range SplitManifest(body) {
			for _, c := range mo.Containers {
				out = append(out, RenderedImage{Template: file, Kind: mo.Kind, Name: mo.Name, Container: c.Name, Image: c.Image})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Template != b.Template {
			return a.Template < b.Template
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Container < b.Container
	})
	return out, nil
}
