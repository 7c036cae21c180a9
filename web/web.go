// Package web serves Parley's browser pages, embedded in the binary: the
// chat widget script (/widget/parley.js) any site can include, the agent
// console (/agent/) and the demo site (/). They speak only the public APIs.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the embedded pages and assets.
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(root)
	console, err := fs.Sub(root, "console")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /widget/", assets(files))
	// The console lives in static/console but is served at /agent/, next
	// to the agent API it speaks (/agent/api/v1/).
	mux.Handle("GET /agent/", assets(http.StripPrefix("/agent", http.FileServerFS(console))))
	mux.Handle("GET /demo/", assets(files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/demo/"
		assets(files).ServeHTTP(w, r)
	})
	return mux
}

// assets adds the headers every page and script gets: revalidate on each
// load (the binary may have been upgraded) and no sniffing.
func assets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
