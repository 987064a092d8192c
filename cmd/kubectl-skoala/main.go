// Command kubectl-skoala is the kubectl and helm plugin for the DCE 5.0 Microservice Engine (skoala).
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cmd"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cmd.Main(streams, os.Args[1:]))
}
