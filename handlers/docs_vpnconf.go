package handlers

import (
	"mime"
	"net/http"
	"strings"
	"unicode"

	"github.com/labstack/echo/v5"

	"portier/docs"
)

// confDownloadable reports whether an item's client configuration is offered as a file: WireGuard's
// apps import a .conf file, and laptops get it that way rather than through a QR code.
func confDownloadable(area *docs.Area, kind string, hasConfig bool) bool {
	return area.Name == docs.VPN.Name && kind == "wireguard" && hasConfig
}

// confFileName is the item's name as a file name WireGuard accepts for a tunnel (letters, digits, _=+.-,
// at most 15 characters: the interface name is taken from it).
func confFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("_=+.-", r):
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
		if b.Len() == 15 {
			break
		}
	}
	if b.Len() == 0 {
		return "wireguard.conf"
	}
	return b.String() + ".conf"
}

// docsConfDownload sends a WireGuard configuration as a .conf file. The file holds the private key, so
// it is a POST (no link to leak, no prefetch), no-store, and audited as docs.download_conf of that field — one
// entry per person and item per window, like a reveal.
func (s *Server) docsConfDownload(c *echo.Context) error {
	r, it, err := s.docItem(c, false)
	if err != nil {
		return err
	}
	if !confDownloadable(r.area, it.Fields["kind"], it.Secrets["config"]) {
		return echo.ErrNotFound
	}
	_, conf, err := s.openSecret(c, r, it.ID, "config")
	if err != nil {
		return err
	}
	if err := s.auditSecretUse(c, r, it, "docs.download_conf", "config"); err != nil {
		return err
	}
	noStore(c)
	if !strings.HasSuffix(conf, "\n") {
		conf += "\n"
	}
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": confFileName(it.Name)}))
	return c.Blob(http.StatusOK, "application/octet-stream", []byte(conf))
}
