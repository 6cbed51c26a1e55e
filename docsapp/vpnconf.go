package docsapp

import (
	"context"
	"strings"
	"unicode"

	"portier/db"
	"portier/docs"
)

// ConfDownloadable reports whether an item's client configuration is offered as a file: WireGuard's
// apps import a .conf file, and laptops get it that way rather than through a QR code. The area is
// compared by name: with custom fields it is a copy of docs.VPN.
func ConfDownloadable(area *docs.Area, it *db.DocItem) bool {
	return area.Name == docs.VPN.Name && it.Fields["kind"] == "wireguard" && it.Secrets["config"]
}

// ConfFile is a WireGuard configuration as the file a client imports.
type ConfFile struct {
	Name string // a file name WireGuard accepts for a tunnel
	Data []byte
}

// Conf opens an item's WireGuard configuration as a file. The file holds the private key, so it is audited
// as docs.download_conf of that field, one entry per person and item per window, like a reveal; without
// its entry nothing is sent.
func (s *Service) Conf(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*ConfFile, error) {
	it, err := s.item(ctx, v, area, id)
	if err != nil {
		return nil, err
	}
	if !ConfDownloadable(area, it) {
		return nil, ErrNotFound
	}
	conf, err := s.open(ctx, v, area, it.ID, "config")
	if err != nil {
		return nil, err
	}
	if err := s.auditOnce(ctx, v.secretEntry("docs.download_conf", area, it, "config"), it.ID); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(conf, "\n") {
		conf += "\n"
	}
	return &ConfFile{Name: confFileName(it.Name), Data: []byte(conf)}, nil
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
