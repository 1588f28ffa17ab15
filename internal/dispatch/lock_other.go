//go:build !unix

package dispatch

import (
	"errors"
	"os"
)

// lockFile cannot lock here: the relay runs on Unix (Function Compute, a
// server); elsewhere a spool folder is not guarded against a second relay.
func lockFile(*os.File) error { return errors.ErrUnsupported }
