package store

import "fmt"

func openOSS(loc Location, getenv func(string) string) (Backend, error) {
	return nil, fmt.Errorf("store %s: the OSS backend is not built yet", loc)
}
