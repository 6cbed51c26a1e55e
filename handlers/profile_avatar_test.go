package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/testkit"
)

func TestAvatarUploadStripsMetadataAndScales(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	_, body := e.get("/profile", profEN)
	if got := profErr(t, body, "avatar-initials"); got != "AM" {
		t.Fatalf("initials %q", got)
	}

	const marker = "GPS-52.5200N-13.4050E-SECRET-MARKER"
	upload := profJPEG(t, profExif(1, marker))
	if !bytes.Contains(upload, []byte(marker)) || !bytes.Contains(upload, []byte("Exif")) {
		t.Fatal("test upload lacks its EXIF block")
	}
	resp, body := e.profUpload("/profile/avatar", "avatar", "holiday.jpg", "image/jpeg", upload)
	if resp.StatusCode != 303 {
		t.Fatalf("upload: %d %.500s", resp.StatusCode, body)
	}
	stored, err := e.db.Avatar(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(marker)) || bytes.Contains(stored, []byte("Exif")) {
		t.Fatal("metadata survived")
	}
	img, format, err := image.Decode(bytes.NewReader(stored))
	if err != nil || format != "png" {
		t.Fatalf("stored %q: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Fatalf("stored %v", b)
	}
	// The centred square of the 300×200 picture is half red, half blue.
	if r, _, b, _ := img.At(20, 64).RGBA(); r>>8 < 180 || b>>8 > 70 {
		t.Fatalf("left is not red: %v", img.At(20, 64))
	}
	if r, _, b, _ := img.At(108, 64).RGBA(); b>>8 < 180 || r>>8 > 70 {
		t.Fatalf("right is not blue: %v", img.At(108, 64))
	}

	// The profile shows it, and it is served as PNG, privately.
	_, body = e.get("/profile", profEN)
	src, _ := doc(t, body).Find(`[data-testid=avatar-image]`).Attr("src")
	if src != "/avatar/"+strconv.FormatInt(u.ID, 10) {
		t.Fatalf("avatar src %q", src)
	}
	resp, served := e.get(src, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.Contains(resp.Header.Get("Cache-Control"), "private") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || served != string(stored) {
		t.Fatalf("serve: %d %v", resp.StatusCode, resp.Header)
	}

	// Removing it brings the initials back.
	resp, _ = e.post("/profile/avatar/remove", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, err := e.db.Avatar(context.Background(), u.ID); err != db.ErrNotFound {
		t.Fatalf("still stored: %v", err)
	}
	if resp, _ := e.get(src, nil); resp.StatusCode != 404 {
		t.Fatalf("removed avatar: %d", resp.StatusCode)
	}
}

func TestAvatarRefusals(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)

	big := make([]byte, 2_500_000)
	rand.Read(big)
	copy(big, "\x89PNG\r\n\x1a\n")
	tooWide := new(bytes.Buffer)
	png.Encode(tooWide, image.NewGray(image.Rect(0, 0, 20000, 1)))
	gifLike := []byte("GIF89a\x10\x00\x10\x00 truncated") // a 16×16 header, then nothing usable
	for _, c := range []struct {
		name, filename, ct string
		data               []byte
		status             int
		want               string
	}{
		{"2.5 MB", "big.png", "image/png", big, 422, "2 MB"},
		{"text renamed .png", "notes.png", "image/png", []byte("Dear diary, this is not a picture.\n"), 422, "PNG, JPEG or GIF"},
		{"broken GIF", "x.gif", "image/gif", gifLike, 422, "PNG, JPEG or GIF"},
		{"too many pixels", "wide.png", "image/png", tooWide.Bytes(), 422, "too many pixels"},
		{"empty", "empty.png", "image/png", nil, 422, "choose a picture"},
	} {
		resp, body := e.profUpload("/profile/avatar", "avatar", c.filename, c.ct, c.data)
		if resp.StatusCode != c.status || !strings.Contains(profErr(t, body, "avatar-error"), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, "avatar-error"))
		}
		if got := e.profUser(u.ID); got.HasAvatar {
			t.Fatalf("%s: stored", c.name)
		}
	}
	// Over the body limit of uploads: refused before reading.
	huge := make([]byte, 3_200_000)
	resp, _ := e.profUpload("/profile/avatar", "avatar", "huge.png", "image/png", huge)
	if resp.StatusCode != 413 || e.profUser(u.ID).HasAvatar {
		t.Fatalf("3.2 MB: %d", resp.StatusCode)
	}
	// A form without the file.
	resp, body := e.post("/profile/avatar", url.Values{"x": {"y"}}, profEN)
	if resp.StatusCode != 422 || profErr(t, body, "avatar-error") == "" {
		t.Fatalf("no file: %d", resp.StatusCode)
	}
}

// The picture of the trust review: a 300 KB PNG (16-bit RGBA, 16384×2441) whose pixel count stays under
// the limit but that decodes to 305 MB. The upload is refused from its header, and the server's memory
// hardly moves (before the fix it was accepted and the heap grew by ~300 MB).
func TestAvatarDecompressionBombIsRefusedWithBoundedMemory(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	bomb := testkit.BombPNG(16384, 2441)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, total := ms.HeapInuse, ms.TotalAlloc
	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				peakc <- top
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	start := time.Now()
	resp, body := e.profUpload("/profile/avatar", "avatar", "bomb.png", "image/png", bomb)
	took := time.Since(start)
	close(stop)
	peak := <-peakc
	runtime.ReadMemStats(&ms)
	grew, alloc := float64(peak-min(peak, base))/(1<<20), float64(ms.TotalAlloc-total)/(1<<20)
	t.Logf("bomb upload (%d KB, %d MB decoded): %d in %v, heap peak +%.1f MB, %.1f MB allocated",
		len(bomb)>>10, 16384*2441*8>>20, resp.StatusCode, took.Round(time.Millisecond), grew, alloc)
	if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, "avatar-error"), "too many pixels") || e.profUser(u.ID).HasAvatar {
		t.Fatalf("bomb: %d %q", resp.StatusCode, profErr(t, body, "avatar-error"))
	}
	if grew > 32 || alloc > 64 {
		t.Fatalf("the refused bomb took memory: heap +%.1f MB, %.1f MB allocated", grew, alloc)
	}
}

// When every decode slot is taken, an upload is answered at once (after a short wait for a slot) with 503,
// Retry-After and a message in the person's language, rather than queueing without end.
func TestAvatarUploadWhileBusyAnswers503(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	pic := new(bytes.Buffer)
	png.Encode(pic, image.NewGray(image.Rect(0, 0, 40, 40)))
	ctx := context.Background()
	var releases []func()
	for {
		r, err := e.srv.avatars.Acquire(ctx)
		if err != nil {
			break
		}
		releases = append(releases, r)
	}
	resp, body := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes())
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(profErr(t, body, "avatar-error"), "busy with other pictures") {
		t.Fatalf("busy: %d %q %q", resp.StatusCode, resp.Header.Get("Retry-After"), profErr(t, body, "avatar-error"))
	}
	e.db.W.Exec(`UPDATE users SET lang = 'de' WHERE id = ?`, u.ID)
	resp, body = e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes())
	if resp.StatusCode != 503 || !strings.Contains(profErr(t, body, "avatar-error"), "verarbeitet gerade andere Bilder") {
		t.Fatalf("busy, German: %d %q", resp.StatusCode, profErr(t, body, "avatar-error"))
	}
	for _, r := range releases {
		r()
	}
	if resp, _ := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes()); resp.StatusCode != 303 || !e.profUser(u.ID).HasAvatar {
		t.Fatalf("after the slots are free: %d", resp.StatusCode)
	}
}

func TestAvatarAccess(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Muster GmbH", "muster")
	b := e.createOrg("Andere AG", "andere")
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{a.ID: "viewer"})
	e.createUser("bert@muster.example", "Bert", "", map[int64]string{a.ID: "manager", b.ID: "viewer"})
	e.createUser("carl@andere.example", "Carl", "", map[int64]string{b.ID: "manager"})
	e.createUser("tech@muster-it.example", "Tech", "technician", nil)
	pic := new(bytes.Buffer)
	png.Encode(pic, image.NewGray(image.Rect(0, 0, 40, 40)))
	e.login(anna.Email, testPassword)
	if resp, _ := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes()); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	path := "/avatar/" + strconv.FormatInt(anna.ID, 10)
	for _, c := range []struct {
		email  string
		status int
	}{
		{"anna@muster.example", 200},    // herself
		{"bert@muster.example", 200},    // shares Muster GmbH
		{"tech@muster-it.example", 200}, // MSP staff
		{"carl@andere.example", 404},    // a customer of another organisation
	} {
		e.newClient()
		e.login(c.email, testPassword)
		resp, _ := e.get(path, nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.email, resp.StatusCode, c.status)
		}
	}
	// Carl gets the same 404 for a person without a picture and for nonsense.
	for _, p := range []string{"/avatar/999999", "/avatar/abc", "/avatar/-1"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	e.newClient()
	if resp, _ := e.get(path, nil); resp.StatusCode != 303 {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
}
