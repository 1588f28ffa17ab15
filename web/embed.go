// Package web holds the configurator's page: plain HTML, CSS, JavaScript
// modules and the strings as JSON, embedded in the binary, with no build
// step and nothing fetched from the network.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
)

//go:embed static
var static embed.FS

// Files is the page's files, rooted at static/.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}

// types are the page's content types, by extension. They are set here, not
// taken from the system's table: a browser runs a module script only when
// it is served as JavaScript, and some systems (Windows' registry) map .js
// to text/plain.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Handler serves the page. Every answer forbids framing, inline scripts and
// loads from other origins, and sends no Referer (the first URL carries the
// token).
func Handler() http.Handler {
	files := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if ct := types[path.Ext(r.URL.Path)]; ct != "" {
			h.Set("Content-Type", ct)
		}
		files.ServeHTTP(w, r)
	})
}
