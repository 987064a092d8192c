package status

import (
	k8stestingpkg "k8s.io/client-go/testing"
)

type k8stesting = k8stestingpkg.Action

type listAction = k8stestingpkg.ListAction
