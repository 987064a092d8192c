package images

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// The results of one image of a push.
const (
	ResultPushed   = "pushed"
	ResultPresent  = "present"
	ResultConflict = "conflict"
	ResultFailed   = "failed"
)

// Target names where an image lands in registry (HOST[:PORT][/PATH], as global.imageRegistry is given):
// by default the source reference with its registry host replaced (release.daocloud.io/skoala/hive:v1 ->
// HOST:PORT/skoala/hive:v1, or HOST:PORT/PATH/skoala/hive:v1), which is where the charts look once
// global.imageRegistry is the registry. With repository set, as charts-syncer's containerRepository
// does: HOST:PORT/<repository>/<last path element of the source repository>.
func Target(source, registry, repository string) (string, error) {
	ref, err := name.ParseReference(source, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", source, err)
	}
	repo := ref.Context().RepositoryStr()
	if repository = strings.Trim(repository, "/"); repository != "" {
		repo = repository + "/" + repo[strings.LastIndexByte(repo, '/')+1:]
	}
	out := strings.TrimSuffix(registry, "/") + "/" + repo
	switch r := ref.(type) {
	case name.Tag:
		return out + ":" + r.TagStr(), nil
	case name.Digest:
		return out + "@" + r.DigestStr(), nil
	}
	return out, nil
}

// PushConfig is what Push needs.
type PushConfig struct {
	Bundles    []*Bundle
	Registry   string
	Repository string
	// Overwrite replaces a tag that holds another digest; without it that is a conflict.
	Overwrite bool
	Options   RegistryOptions
	// Parallel images at once (default 2; each moves Options.Jobs blobs at once).
	Parallel int
	// Progress, when set, is called as images and bytes move (from several goroutines, serialised).
	Progress func(Progress)
}

// Progress is the state of a push.
type Progress struct {
	ImagesDone, ImagesTotal int
	BytesDone, BytesTotal   int64
}

// PushedImage is the outcome of one image.
type PushedImage struct {
	Source    string   `json:"source"`
	Target    string   `json:"target"`
	Digest    string   `json:"digest"`
	Platforms []string `json:"platforms"`
	Result    string   `json:"result"`
	// Existing is the digest the target tag held (a conflict, or overwritten).
	Existing string `json:"existing,omitempty"`
	Message  string `json:"message,omitempty"`
}

// PushReport is the outcome of a push.
type PushReport struct {
	Registry string        `json:"registry"`
	Bundles  []string      `json:"bundles"`
	Images   []PushedImage `json:"images"`
	Pushed   int           `json:"pushed"`
	Present  int           `json:"present"`
	Conflict int           `json:"conflict"`
	Failed   int           `json:"failed"`
}

// Problems reports whether any image was not pushed (conflict or failure).
func (r *PushReport) Problems() bool { return r.Conflict+r.Failed > 0 }

type pushItem struct {
	source string
	imgs   []BundleImage
	// clash, when set, is the outcome decided before the push: another source maps to the same target.
	clash *PushedImage
}

// Push pushes every image of the bundles into the registry. Images of the same reference in bundles of
// different platforms go up as one index (docker manifest list) of those platforms. Blobs the registry has
// are not sent again (an interrupted push resumes), a tag that already holds the same digest is "present",
// one that holds another digest a "conflict" left as it is unless Overwrite. The report is returned also
// with an error; the error is set only when the push could not start (bad bundle, refused credentials).
func Push(ctx context.Context, cfg PushConfig) (*PushReport, error) {
	rep := &PushReport{Registry: cfg.Registry, Images: []PushedImage{}}
	host := RegistryHost(cfg.Registry)
	cfg.Options = cfg.Options.withGuard()
	if cfg.Options.Host == "" {
		cfg.Options.Host = host // the credentials are for the registry pushed into
	}
	if err := cfg.Options.Login(ctx, host); err != nil {
		return rep, err
	}
	bySource := map[string]*pushItem{}
	var items []*pushItem
	for _, b := range cfg.Bundles {
		rep.Bundles = append(rep.Bundles, b.Path)
		imgs, err := b.Images()
		if err != nil {
			return rep, err
		}
		for _, im := range imgs {
			it := bySource[im.Source]
			if it == nil {
				it = &pushItem{source: im.Source}
				bySource[im.Source] = it
				items = append(items, it)
			}
			dup := false
			for _, o := range it.imgs {
				if o.Platform == im.Platform {
					dup = true
					if o.Digest != im.Digest {
						return rep, fmt.Errorf("%s and %s hold two different %s images of %s", o.Bundle, im.Bundle, im.Platform, im.Source)
					}
				}
			}
			if !dup {
				it.imgs = append(it.imgs, im)
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].source < items[j].source })
	markClashes(cfg, items)
	opts, err := cfg.Options.remoteOptions(ctx)
	if err != nil {
		return rep, err
	}
	var (
		mu        sync.Mutex
		prog      Progress
		perImage  = make([]int64, len(items))
		bytesDone atomic.Int64
	)
	prog.ImagesTotal = len(items)
	for _, it := range items {
		for _, im := range it.imgs {
			prog.BytesTotal += im.Size
		}
	}
	report := func() {
		if cfg.Progress == nil {
			return
		}
		mu.Lock()
		p := prog
		p.BytesDone = bytesDone.Load()
		cfg.Progress(p)
		mu.Unlock()
	}
	report()
	results := make([]PushedImage, len(items))
	par := cfg.Parallel
	if par <= 0 {
		par = 2
	}
	kube.ForEach(ctx, items, par, 0, func(_ context.Context, i int, it *pushItem) {
		onBytes := func(complete int64) {
			mu.Lock()
			d := complete - perImage[i]
			perImage[i] = complete
			mu.Unlock()
			if d > 0 {
				bytesDone.Add(d)
				report()
			}
		}
		if it.clash != nil {
			results[i] = *it.clash
		} else {
			results[i] = pushOne(ctx, cfg, opts, it, onBytes)
		}
		mu.Lock()
		prog.ImagesDone++
		mu.Unlock()
		report()
	})
	for _, r := range results {
		switch r.Result {
		case ResultPushed:
			rep.Pushed++
		case ResultPresent:
			rep.Present++
		case ResultConflict:
			rep.Conflict++
		default:
			rep.Failed++
		}
	}
	rep.Images = results
	return rep, nil
}

// markClashes finds the sources that map to one target (--repository keeps only the last path element:
// a/x/hive:v1 and b/y/hive:v1 both land on REG/<repository>/hive:v1) with different content: pushing both
// would leave one of them silently lost under the other's tag. Each of them is a conflict, none is pushed.
func markClashes(cfg PushConfig, items []*pushItem) {
	type entry struct {
		it     *pushItem
		digest string
	}
	byTarget := map[string][]entry{}
	var order []string
	for _, it := range items {
		target, err := Target(it.source, cfg.Registry, cfg.Repository)
		if err != nil {
			continue // pushOne reports it
		}
		dg := ""
		if a, _, err := build(it); err == nil {
			if h, err := a.digest(); err == nil {
				dg = h.String()
			}
		}
		if byTarget[target] == nil {
			order = append(order, target)
		}
		byTarget[target] = append(byTarget[target], entry{it, dg})
	}
	for _, target := range order {
		es := byTarget[target]
		same := true
		for _, e := range es[1:] {
			same = same && e.digest != "" && e.digest == es[0].digest
		}
		if len(es) < 2 || same {
			continue
		}
		for _, e := range es {
			var others []string
			for _, o := range es {
				if o.it != e.it {
					others = append(others, o.it.source)
				}
			}
			_, platforms, _ := build(e.it)
			e.it.clash = &PushedImage{Source: e.it.source, Target: target, Digest: e.digest, Platforms: platforms, Result: ResultConflict,
				Message: fmt.Sprintf("%s also maps to %s with other content: neither is pushed (give --repository a value that keeps them apart, or push them separately)",
					strings.Join(others, ", "), target)}
		}
	}
}

// artefact is what goes up for one reference: an image, or an index of platform images.
type artefact struct {
	img v1.Image
	idx v1.ImageIndex
}

func (a artefact) digest() (v1.Hash, error) {
	if a.idx != nil {
		return a.idx.Digest()
	}
	return a.img.Digest()
}

func build(it *pushItem) (artefact, []string, error) {
	var platforms []string
	for _, im := range it.imgs {
		platforms = append(platforms, im.Platform)
	}
	sort.Strings(platforms)
	if len(it.imgs) == 1 {
		return artefact{img: it.imgs[0].Image}, platforms, nil
	}
	sorted := append([]BundleImage(nil), it.imgs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Platform < sorted[j].Platform })
	var adds []mutate.IndexAddendum
	for _, im := range sorted {
		p, err := v1.ParsePlatform(im.Platform)
		if err != nil {
			return artefact{}, nil, err
		}
		mt, err := im.Image.MediaType()
		if err != nil {
			return artefact{}, nil, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: im.Image, Descriptor: v1.Descriptor{Platform: p, MediaType: mt}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.DockerManifestList)
	return artefact{idx: idx}, platforms, nil
}

func pushOne(ctx context.Context, cfg PushConfig, opts []remote.Option, it *pushItem, onBytes func(int64)) PushedImage {
	res := PushedImage{Source: it.source, Result: ResultFailed}
	fail := func(err error) PushedImage {
		res.Message = cfg.Options.errLine(err)
		return res
	}
	target, err := Target(it.source, cfg.Registry, cfg.Repository)
	if err != nil {
		return fail(err)
	}
	res.Target = target
	ref, err := cfg.Options.ParseRef(target)
	if err != nil {
		return fail(err)
	}
	a, platforms, err := build(it)
	if err != nil {
		return fail(err)
	}
	res.Platforms = platforms
	dg, err := a.digest()
	if err != nil {
		return fail(err)
	}
	res.Digest = dg.String()
	head, err := remote.Head(ref, opts...)
	switch {
	case err == nil:
		if head.Digest == dg || (a.img != nil && head.MediaType.IsIndex() && indexHolds(ref, opts, dg)) {
			res.Result = ResultPresent
			return res
		}
		res.Existing = head.Digest.String()
		if !cfg.Overwrite {
			res.Result = ResultConflict
			res.Message = fmt.Sprintf("the registry's %s is %s, not the bundle's %s: left as it is (--overwrite replaces it)", target, res.Existing, res.Digest)
			return res
		}
	case isNotFound(err):
	default:
		return fail(err)
	}
	updates := make(chan v1.Update, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range updates {
			onBytes(u.Complete)
		}
	}()
	popts := append(append([]remote.Option(nil), opts...), remote.WithProgress(updates))
	if a.idx != nil {
		err = remote.WriteIndex(ref, a.idx, popts...)
	} else {
		err = remote.Write(ref, a.img, popts...)
	}
	<-done
	if err != nil {
		if errors.Is(err, context.Canceled) {
			res.Message = "interrupted: run the push again to resume (blobs already sent are skipped)"
			return res
		}
		return fail(err)
	}
	res.Result = ResultPushed
	if res.Existing != "" {
		res.Message = "overwrote " + res.Existing
	}
	return res
}

// indexHolds reports whether the index at ref lists the manifest dg (an image pushed before as one
// platform of a multi-platform push).
func indexHolds(ref name.Reference, opts []remote.Option, dg v1.Hash) bool {
	idx, err := remote.Index(ref, opts...)
	if err != nil {
		return false
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return false
	}
	for _, d := range m.Manifests {
		if d.Digest == dg {
			return true
		}
	}
	return false
}
