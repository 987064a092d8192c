// Package images moves and checks the container images of an offline upgrade: it reads charts-syncer
// offline bundles (<chart>_<version>.bundle.tar: hints.yaml, original-chart/, images.tar in
// go-containerregistry's tarball format), pushes their images into a registry (images push), lists the
// images the target charts render for the fleet (images list), checks that a registry holds every one of
// them for the architectures of the cluster nodes (images check, doctor --to, the upgrade preflight) and
// writes a charts-syncer load-image.yaml (images load-config).
//
// Registry credentials come from the docker config or from RegistryOptions and never appear in any
// message: errors name the registry and the user, never the password.
package images
