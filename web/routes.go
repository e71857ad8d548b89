package web

import (
	"io/fs"
	"net/http"
)

func (h *Handler) routes() {
	assets, _ := fs.Sub(assetFS, "assets")
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.loginPost)
	h.post("/logout", false, h.logout)
	h.get("/{$}", false, h.home)
	h.pageRoutes()
}
