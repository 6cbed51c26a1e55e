package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	"portier/avatar"
	"portier/db"
	"portier/docs"
)

// Connected is how the connected item of a big organisation is furnished: the detail page the benchmark
// compares with the plain one.
const (
	ConnectedLinks = 10
	ConnectedFiles = 3
)

// connect links one customer-visible configuration of an organisation to ConnectedLinks other visible
// items of every area and attaches ConnectedFiles files (a PDF, a picture with its preview, a
// configuration text), through the same db calls the portal uses. It returns the item's id.
func connect(ctx context.Context, d *db.DB, s *db.Sealer, orgID int64) (int64, error) {
	sc := db.DocScope{OrgID: orgID}
	staff := db.DocScope{OrgID: orgID, StaffView: true}
	var pick []int64
	var item int64
	for _, a := range []*docs.Area{docs.Configurations, docs.Contacts, docs.Passwords, docs.Wireless, docs.VPN} {
		its, _, err := d.DocList(ctx, db.DocQuery{DocScope: sc, Area: a.Name, Limit: 4})
		if err != nil {
			return 0, err
		}
		for _, it := range its {
			if a == docs.Configurations && item == 0 {
				item = it.ID
				continue
			}
			pick = append(pick, it.ID)
		}
	}
	if item == 0 || len(pick) < ConnectedLinks {
		return 0, fmt.Errorf("bench: organisation %d has too few items to connect", orgID)
	}
	by := db.DocActor{Name: "Bench"}
	for _, other := range pick[:ConnectedLinks] {
		if err := d.DocLinkAdd(ctx, staff, item, other, "bench", by, nil); err != nil {
			return 0, err
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := 0; x < 640; x++ {
		for y := 0; y < 480; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		return 0, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"Wartungsvertrag.pdf", []byte("%PDF-1.4\n" + strings.Repeat("% Wartungsvertrag Seite\n", 2000) + "%%EOF\n")},
		{"Rack.png", pic.Bytes()},
		{"running-config.txt", []byte(strings.Repeat("interface GigabitEthernet0/1\n description uplink\n", 500))},
	}
	thumbs := avatar.New(1, time.Second)
	for _, f := range files {
		a, err := d.AttachmentCreate(ctx, s, staff, db.AttachmentUpload{ItemID: item, Name: f.name, Max: 25 << 20, Check: docs.FileType},
			bytes.NewReader(f.data), by, nil)
		if err != nil {
			return 0, err
		}
		if strings.HasPrefix(a.ContentType, "image/") {
			p, err := thumbs.Process(ctx, f.data)
			if err != nil {
				return 0, err
			}
			if err := d.FileSetThumb(ctx, s, a, p); err != nil {
				return 0, err
			}
		}
	}
	return item, nil
}
